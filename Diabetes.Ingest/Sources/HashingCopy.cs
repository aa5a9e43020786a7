using System.Security.Cryptography;

namespace Diabetes.Ingest.Sources;

/// <summary>Writes a download to a file and hashes it on the way: one pass over the bytes, none of them held.</summary>
public static class HashingCopy
{
    /// <summary>Copies <paramref name="source"/> to <paramref name="destination"/>; answers the bytes copied and their SHA-256 (lower-case hex).</summary>
    /// <param name="copied">Told the bytes copied so far, after each read.</param>
    public static async Task<(long Length, string Sha256)> CopyAsync(
        Stream source, Stream destination, Action<long>? copied, CancellationToken cancellationToken)
    {
        using var hash = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
        var buffer = new byte[81_920];
        long length = 0;
        int read;
        while ((read = await source.ReadAsync(buffer, cancellationToken)) > 0)
        {
            hash.AppendData(buffer, 0, read);
            await destination.WriteAsync(buffer.AsMemory(0, read), cancellationToken);
            length += read;
            copied?.Invoke(length);
        }

        return (length, Convert.ToHexStringLower(hash.GetHashAndReset()));
    }
}
