using System.Buffers.Binary;
using System.Globalization;
using System.Security.Cryptography;
using System.Text;

namespace Diabetes.Core.Encounters;

public enum DatasetSplit
{
    Train,
    Validation,
    Test,
}

/// <summary>
/// The split rule: by patient, so that no patient is in two subsets. The bucket of a patient is the first
/// eight bytes of SHA-256 over the decimal <c>patient_nbr</c>, read big-endian, mod 100; below 70 is train,
/// below 85 validation, the rest test. A cryptographic hash is overkill for spreading but is the same in every
/// language and runtime (Python: <c>int.from_bytes(sha256(str(p).encode()).digest()[:8], "big") % 100</c>),
/// so anybody can reproduce the split.
/// </summary>
public static class SplitRule
{
    public const int TrainBelow = 70;
    public const int ValidationBelow = 85;

    public static int Bucket(long patientNbr)
    {
        Span<byte> text = stackalloc byte[24];
        var length = Encoding.ASCII.GetBytes(patientNbr.ToString(CultureInfo.InvariantCulture), text);
        Span<byte> hash = stackalloc byte[SHA256.HashSizeInBytes];
        SHA256.HashData(text[..length], hash);
        return (int)(BinaryPrimitives.ReadUInt64BigEndian(hash) % 100);
    }

    public static DatasetSplit Assign(long patientNbr) => OfBucket(Bucket(patientNbr));

    public static DatasetSplit OfBucket(int bucket) => bucket switch
    {
        < TrainBelow => DatasetSplit.Train,
        < ValidationBelow => DatasetSplit.Validation,
        _ => DatasetSplit.Test,
    };

    /// <summary>The name stored in the <c>split</c> columns: <c>train</c>, <c>validation</c>, <c>test</c>.</summary>
    public static string ToName(this DatasetSplit split) => split switch
    {
        DatasetSplit.Train => "train",
        DatasetSplit.Validation => "validation",
        DatasetSplit.Test => "test",
        _ => throw new ArgumentOutOfRangeException(nameof(split), split, null),
    };

    public static DatasetSplit Parse(string name) => name switch
    {
        "train" => DatasetSplit.Train,
        "validation" => DatasetSplit.Validation,
        "test" => DatasetSplit.Test,
        _ => throw new FormatException($"'{name}' is not a split (train, validation, test)."),
    };
}
