using Diabetes.Core.Encounters;
using Diabetes.Core.Modeling;
using Diabetes.Trainer.Training;

namespace Diabetes.Bench;

/// <summary>
/// The selection figures: every candidate in five patient-grouped folds of the train and validation buckets (0-84)
/// only. Fold k holds out buckets 17k to 17k+16 and trains on the other 68, about as many patients as the train split
/// has. The test buckets (85-99) are never read here: the one unbiased estimate is the test score a training job logs
/// for its chosen model alone.
/// </summary>
public static class CrossValidationBenchmark
{
    private const int Folds = 5;
    private const int SelectionBuckets = SplitRule.ValidationBelow;
    private const int BucketsPerFold = SelectionBuckets / Folds;

    public static void Run(string datasetPath)
    {
        var rows = Load(datasetPath).Where(r => r.Bucket < SelectionBuckets).ToList();
        Console.WriteLine($"{rows.Count:N0} CLEAN train and validation rows from {datasetPath} (the test buckets are left out)");
        var auc = new Dictionary<(string Candidate, int Fold), double>();
        for (var fold = 0; fold < Folds; fold++)
        {
            var first = fold * BucketsPerFold;
            bool IsHeldOut(int bucket) => bucket >= first && bucket < first + BucketsPerFold;

            // Train rows in arrival order, as the trainer reads them.
            var train = rows.Where(r => !IsHeldOut(r.Bucket)).Select(r => r.Input).ToList();
            var heldOut = rows.Where(r => IsHeldOut(r.Bucket)).Select(r => r.Input).ToList();
            var trainer = new ModelTrainer(train, heldOut);
            foreach (var candidate in Candidates.All)
            {
                auc[(candidate.Name, fold)] = trainer.Train(candidate).Validation.RocAuc;
            }

            Console.WriteLine($"  fold {fold}: buckets {first}-{first + BucketsPerFold - 1} held out, trained on {train.Count:N0} rows, scored on {heldOut.Count:N0}");
        }

        Console.WriteLine();
        Console.WriteLine($"  {"candidate",-100} {string.Join(" ", Enumerable.Range(0, Folds).Select(f => $"{"fold" + f,6}"))} {"mean",6}");
        foreach (var candidate in Candidates.All.OrderByDescending(c => Enumerable.Range(0, Folds).Average(f => auc[(c.Name, f)])))
        {
            var folds = Enumerable.Range(0, Folds).Select(f => auc[(candidate.Name, f)]).ToArray();
            Console.WriteLine($"  {candidate.Name,-100} {string.Join(" ", folds.Select(a => $"{a,6:F4}"))} {folds.Average(),6:F4}");
        }
    }

    /// <summary>The CLEAN rows of the dataset (as the ingest service parses and cleans them) with their split bucket.</summary>
    public static List<(int Bucket, ModelInput Input)> Load(string datasetPath) =>
        DatasetEncounters.Load(datasetPath).Select(e => (SplitRule.Bucket(e.Row.PatientNbr), ModelInput.FromClean(e.Clean))).ToList();
}
