using Diabetes.Core.Cleaning;
using Diabetes.Core.Encounters;
using Diabetes.Core.Modeling;
using Diabetes.Ingest.Sources;
using Diabetes.Trainer.Training;

namespace Diabetes.Bench;

/// <summary>
/// How far one fixed test split can be trusted: every candidate is scored on the design's test set (trained on the
/// train split) and in five patient-grouped folds over the whole dataset: fold k holds out split buckets 20k-20k+19
/// and trains on the 70 buckets after them (cyclically), as many as the train split has. The folds show what the
/// method reaches on other patients, and how much one slice of patients varies.
/// </summary>
public static class CrossValidationBenchmark
{
    private const int Folds = 5;
    private const int BucketsPerFold = 100 / Folds;
    private const int TrainBuckets = SplitRule.TrainBelow;

    public static void Run(string datasetPath)
    {
        var rows = Load(datasetPath);
        Console.WriteLine($"{rows.Count:N0} CLEAN rows from {datasetPath}");
        var splits = new List<(string Name, Func<int, bool> IsHeldOut, Func<int, bool> IsTrain)>
        {
            ("test", b => SplitRule.OfBucket(b) == DatasetSplit.Test, b => SplitRule.OfBucket(b) == DatasetSplit.Train),
        };
        for (var fold = 0; fold < Folds; fold++)
        {
            var first = fold * BucketsPerFold;
            int After(int bucket) => (bucket - first + 100) % 100;
            splits.Add(($"fold{fold}", b => After(b) < BucketsPerFold, b => After(b) >= BucketsPerFold && After(b) < BucketsPerFold + TrainBuckets));
        }

        var auc = new Dictionary<(string Candidate, string Split), double>();
        foreach (var (name, isHeldOut, isTrain) in splits)
        {
            // Train rows in arrival order, as the trainer reads them; copies, because the trainer sets their weights.
            var train = rows.Where(r => isTrain(r.Bucket)).Select(r => r.Input.Copy()).ToList();
            var heldOut = rows.Where(r => isHeldOut(r.Bucket)).Select(r => r.Input).ToList();
            var trainer = new ModelTrainer(train, heldOut);
            foreach (var candidate in Candidates.All)
            {
                auc[(candidate.Name, name)] = trainer.Train(candidate).Validation.RocAuc;
            }

            Console.WriteLine($"  {name}: trained on {train.Count:N0} rows, scored on {heldOut.Count:N0}");
        }

        Console.WriteLine();
        Console.WriteLine($"  {"candidate",-100} {"test",6} {string.Join(" ", Enumerable.Range(0, Folds).Select(f => $"{"fold" + f,6}"))} {"folds mean",10}");
        foreach (var candidate in Candidates.All)
        {
            var folds = Enumerable.Range(0, Folds).Select(f => auc[(candidate.Name, $"fold{f}")]).ToArray();
            Console.WriteLine($"  {candidate.Name,-100} {auc[(candidate.Name, "test")],6:F4} {string.Join(" ", folds.Select(a => $"{a,6:F4}"))} {folds.Average(),10:F4}");
        }
    }

    /// <summary>The CLEAN rows of the dataset (as the ingest service parses and cleans them) with their split bucket.</summary>
    public static List<(int Bucket, ModelInput Input)> Load(string datasetPath)
    {
        var rows = new List<(int Bucket, ModelInput Input)>();
        foreach (var row in SourceParser.Parse(datasetPath).Rows.OrderBy(r => r.EncounterId))
        {
            if (EncounterCleaner.Clean(new RawEncounter(row.Fields)) is CleaningResult.Cleaned cleaned)
            {
                rows.Add((SplitRule.Bucket(row.PatientNbr), ModelInput.FromClean(cleaned.Encounter)));
            }
        }

        return rows;
    }
}
