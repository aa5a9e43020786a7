using System.IO.Compression;
using System.Text;

namespace Diabetes.Testing;

/// <summary>The real dataset (never committed: it lies in <c>../shared/data</c> beside the repository) and files made from it.</summary>
public static class TestData
{
    public const string DatasetVariable = "DIABETES_DATASET";
    public const int EncounterCount = 101_766;

    /// <summary><c>dataset_diabetes.zip</c>: from <c>DIABETES_DATASET</c>, else <c>../shared/data/</c> next to the repository.</summary>
    public static string DatasetZip => LazyDataset.Value;

    private static readonly Lazy<string> LazyDataset = new(FindDataset);

    /// <summary>The lines of <c>diabetic_data.csv</c> (header first), read once.</summary>
    public static IReadOnlyList<string> CsvLines => LazyLines.Value;

    private static readonly Lazy<string[]> LazyLines = new(() =>
    {
        using var archive = ZipFile.OpenRead(DatasetZip);
        var entry = archive.Entries.Single(e => e.Name == "diabetic_data.csv");
        using var reader = new StreamReader(entry.Open());
        return reader.ReadToEnd().Split('\n', StringSplitOptions.RemoveEmptyEntries).Select(l => l.TrimEnd('\r')).ToArray();
    });

    /// <summary>Writes lines to a new temporary file with this extension and answers its path.</summary>
    public static string WriteTempFile(IEnumerable<string> lines, string extension = ".csv")
    {
        var path = Path.Combine(Path.GetTempPath(), $"diabetes-test-{Guid.NewGuid():N}{extension}");
        File.WriteAllText(path, string.Join("\n", lines) + "\n", new UTF8Encoding(false));
        return path;
    }

    public static string WriteTempFile(byte[] content, string extension)
    {
        var path = Path.Combine(Path.GetTempPath(), $"diabetes-test-{Guid.NewGuid():N}{extension}");
        File.WriteAllBytes(path, content);
        return path;
    }

    /// <summary>The repository's root folder (where <c>Diabetes.sln</c> is), above the test binaries.</summary>
    public static string RepositoryRoot { get; } = FindRepositoryRoot();

    private static string FindDataset()
    {
        if (Environment.GetEnvironmentVariable(DatasetVariable) is { Length: > 0 } configured)
        {
            return configured;
        }

        var path = Path.GetFullPath(Path.Combine(RepositoryRoot, "..", "shared", "data", "dataset_diabetes.zip"));
        return File.Exists(path)
            ? path
            : throw new FileNotFoundException($"The dataset is not at {path}; set {DatasetVariable} to its path.", path);
    }

    private static string FindRepositoryRoot()
    {
        for (var directory = new DirectoryInfo(AppContext.BaseDirectory); directory is not null; directory = directory.Parent)
        {
            if (File.Exists(Path.Combine(directory.FullName, "Diabetes.sln")))
            {
                return directory.FullName;
            }
        }

        throw new DirectoryNotFoundException("The repository root (Diabetes.sln) is not above the test binaries.");
    }
}
