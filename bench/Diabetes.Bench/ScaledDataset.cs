using System.Globalization;
using System.IO.Compression;
using System.Text;
using Diabetes.Ingest.Sources;

namespace Diabetes.Bench;

/// <summary>
/// An N-times dataset made from the real one, as a zip archive laid out like it. Copy c (0 to N-1) of every line has
/// c·10⁹ added to its encounter_id and its patient_nbr: copies share no patient (the split rule places each copy's
/// patients anew), and each copy follows the one before in encounter_id order, as later years of the same hospitals
/// would; copy 0 is the real file's lines, in their order.
/// </summary>
public static class ScaledDataset
{
    private const long CopyOffset = 1_000_000_000;

    /// <summary>Writes the N-times archive to <paramref name="path"/> and answers its data lines.</summary>
    public static int Write(string datasetZip, int factor, string path)
    {
        using var source = ZipFile.OpenRead(datasetZip);
        using var output = ZipFile.Open(path, ZipArchiveMode.Create);
        var lines = 0;
        foreach (var entry in source.Entries)
        {
            using var from = entry.Open();
            using var to = output.CreateEntry(entry.FullName, CompressionLevel.Optimal).Open();
            if (entry.Name != SourceParser.DataFileName)
            {
                from.CopyTo(to);
                continue;
            }

            var text = new StreamReader(from).ReadToEnd().Split('\n', StringSplitOptions.RemoveEmptyEntries);
            using var writer = new StreamWriter(to, new UTF8Encoding(encoderShouldEmitUTF8Identifier: false));
            writer.Write(text[0] + "\n");
            for (var copy = 0; copy < factor; copy++)
            {
                foreach (var line in text.Skip(1))
                {
                    writer.Write(Renumbered(line, copy));
                    writer.Write('\n');
                    lines++;
                }
            }
        }

        return lines;
    }

    /// <summary>The line with copy <paramref name="copy"/>'s encounter_id and patient_nbr (the first two fields).</summary>
    private static string Renumbered(string line, int copy)
    {
        var first = line.IndexOf(',');
        var second = line.IndexOf(',', first + 1);
        var encounterId = long.Parse(line.AsSpan(0, first), CultureInfo.InvariantCulture);
        var patientNbr = long.Parse(line.AsSpan(first + 1, second - first - 1), CultureInfo.InvariantCulture);
        if (encounterId >= CopyOffset || patientNbr >= CopyOffset)
        {
            throw new InvalidOperationException($"Ids of {CopyOffset:N0} or more would collide between copies: {line[..second]}");
        }

        return string.Create(CultureInfo.InvariantCulture, $"{encounterId + copy * CopyOffset},{patientNbr + copy * CopyOffset}{line.AsSpan(second)}");
    }
}
