using System.Globalization;
using Diabetes.Core.Encounters;

namespace Diabetes.Bench;

/// <summary>
/// What <c>bench/run.sh traffic</c> is asked to do: which API, which split of which dataset, how fast, how many,
/// whether to record outcomes, and which inputs to shift.
/// </summary>
public sealed record TrafficOptions(
    Uri Url, DatasetSplit Split, double Rate, int? Limit, bool Outcomes, IReadOnlyList<InputShift> Shifts, string Dataset)
{
    public const double DefaultRate = 100;

    public const string Synopsis =
        "usage: bench/run.sh traffic --url http://host:port [--split test|validation|train] [--rate N] [--limit N] [--outcomes]\n" +
        "                            [--shift field=change]... [dataset zip]";

    public const string Usage = Synopsis + "\n" +
        "  --url       the inference API (required)\n" +
        "  --split     the split whose encounters are sent (default test), as the ingest service splits and cleans the dataset\n" +
        "  --rate      encounters a second at most (default 100; one request at a time, so a slow API gets fewer): one request each\n" +
        "              up to 100/s, above that ten batches a second\n" +
        "  --limit     send N encounters spread evenly over the split instead of all of it\n" +
        "  --outcomes  record each answered encounter's true outcome (readmitted <30) through POST /api/outcomes\n" +
        "  --shift     change a field in every encounter sent; repeat for more: age=+2 (brackets), num_medications=x2 or\n" +
        "              time_in_hospital=+3 (a count, kept within its range), A1Cresult=>8 (set a value the field may take)\n" +
        "  dataset     dataset_diabetes.zip or diabetic_data.csv (default: DIABETES_DATASET, which bench/run.sh sets to\n" +
        "              ../shared/data/dataset_diabetes.zip)";

    /// <summary>
    /// Reads the command line after <c>traffic</c>; <paramref name="defaultDataset"/> when it names no dataset. What is
    /// missing or wrong is a <see cref="FormatException"/> saying what.
    /// </summary>
    public static TrafficOptions Parse(IReadOnlyList<string> args, string? defaultDataset)
    {
        Uri? url = null;
        var split = DatasetSplit.Test;
        var rate = DefaultRate;
        int? limit = null;
        var outcomes = false;
        var shifts = new List<InputShift>();
        string? dataset = null;
        for (var i = 0; i < args.Count; i++)
        {
            string Value() => i + 1 < args.Count && !args[i + 1].StartsWith("--", StringComparison.Ordinal)
                ? args[++i]
                : throw new FormatException($"{args[i]} needs a value.");

            switch (args[i])
            {
                case "--url":
                    var text = Value();
                    url = Uri.TryCreate(text.EndsWith('/') ? text : text + "/", UriKind.Absolute, out var parsed) && parsed.Scheme is "http" or "https"
                        ? parsed
                        : throw new FormatException($"--url {text}: not an http(s) address such as http://127.0.0.1:5080.");
                    break;
                case "--split":
                    split = SplitRule.Parse(Value());
                    break;
                case "--rate":
                    var rateText = Value();
                    rate = double.TryParse(rateText, NumberStyles.AllowDecimalPoint, CultureInfo.InvariantCulture, out var perSecond) && perSecond > 0 && double.IsFinite(perSecond)
                        ? perSecond
                        : throw new FormatException($"--rate {rateText}: encounters a second, a number above 0.");
                    break;
                case "--limit":
                    var limitText = Value();
                    limit = int.TryParse(limitText, NumberStyles.None, CultureInfo.InvariantCulture, out var count) && count > 0
                        ? count
                        : throw new FormatException($"--limit {limitText}: a whole number of encounters, 1 or more.");
                    break;
                case "--outcomes":
                    outcomes = true;
                    break;
                case "--shift":
                    var shift = InputShift.Parse(Value());
                    shifts.Add(shifts.All(s => s.Field != shift.Field) ? shift : throw new FormatException($"--shift {shift}: {shift.Field} is shifted twice."));
                    break;
                case var option when option.StartsWith("--", StringComparison.Ordinal):
                    throw new FormatException($"{option} is not an option.");
                default:
                    dataset = dataset is null ? args[i] : throw new FormatException($"'{args[i]}': only one dataset may be named (already {dataset}).");
                    break;
            }
        }

        dataset ??= defaultDataset ?? throw new FormatException("No dataset: name dataset_diabetes.zip or set DIABETES_DATASET.");
        return new TrafficOptions(
            url ?? throw new FormatException("--url is required: the inference API's address, such as http://127.0.0.1:5080."),
            split, rate, limit, outcomes, shifts,
            File.Exists(dataset) ? dataset : throw new FormatException($"The dataset {dataset} does not exist."));
    }
}
