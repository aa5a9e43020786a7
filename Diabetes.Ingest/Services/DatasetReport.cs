namespace Diabetes.Ingest.Services;

/// <summary>The status of the pipeline and the data analysis (profile) of what it loaded.</summary>
public sealed class DatasetReport(RawDataStore raw, CleanDataStore clean)
{
    public const int RejectedSampleSize = 50;

    public async Task<StatusResponse> StatusAsync(CancellationToken cancellationToken)
    {
        var source = await raw.GetSourceAsync(cancellationToken);
        var rawCounts = await raw.CountBySplitAsync(cancellationToken);
        var cleanCounts = await clean.CountAsync(cancellationToken);
        var batches = await BatchesAsync(source, cancellationToken);
        var train = batches.Where(b => b.Split == DatasetSplit.Train.ToName()).ToArray();
        var totalBatches = source?.TrainBatches ?? 0;

        return new StatusResponse(
            source is null ? null : new SourceStatus(source.Sha256, source.Location, source.ObjectKey, source.CsvEntry,
                source.SizeBytes, source.Rows, source.RejectedRows, source.PreparedAt),
            new TrainProgress(train.Length, totalBatches, totalBatches - train.Length, train.Sum(b => (long)b.Rows),
                source?.TrainRows ?? 0, source?.BatchSize ?? 0),
            rawCounts, cleanCounts.RowsBySplit, cleanCounts.ExcludedByReason, batches);
    }

    public async Task<ProfileResponse> ProfileAsync(int topValues, CancellationToken cancellationToken)
    {
        var source = await raw.GetSourceAsync(cancellationToken);
        var columns = EncounterSchema.Columns.Select(c => new ColumnTally(c)).ToArray();
        var balance = Enum.GetValues<DatasetSplit>().ToDictionary(s => s, _ => new SplitTally());
        long rows = 0;
        await foreach (var row in raw.ReadAsync(null, cancellationToken))
        {
            rows++;
            for (var i = 0; i < columns.Length; i++)
            {
                columns[i].Add(row.Encounter.Values[i]!);
            }

            var split = balance[row.Split];
            split.Patients.Add(row.PatientNbr);
            var outcome = row.Encounter[EncounterSchema.Readmitted]!;
            split.Readmitted[outcome] = split.Readmitted.GetValueOrDefault(outcome) + 1;
        }

        var cleanCounts = await clean.CountAsync(cancellationToken);
        var rejected = await raw.GetRejectedAsync(RejectedSampleSize, cancellationToken);
        return new ProfileResponse(
            source?.Sha256,
            rows,
            source?.RejectedRows ?? 0,
            columns.Select(c => c.ToProfile(rows, topValues)).ToArray(),
            balance.Select(b => b.Value.ToBalance(b.Key)).ToArray(),
            new CleanProfile(
                cleanCounts.RowsBySplit,
                cleanCounts.RowsBySplit.ToDictionary(s => s.Key, s => Percent(cleanCounts.PositivesBySplit[s.Key], s.Value)),
                cleanCounts.ExcludedByReason),
            await BatchesAsync(source, cancellationToken),
            rejected.Select(r => new RejectedLine(r.LineNumber, r.Reason, r.Content)).ToArray());
    }

    private async Task<IReadOnlyList<BatchStatus>> BatchesAsync(SourceRecord? source, CancellationToken cancellationToken)
    {
        if (source is null)
        {
            return [];
        }

        var cleaned = await clean.GetCleanedBatchesAsync(source.Sha256, cancellationToken);
        return (await raw.GetLedgerAsync(cancellationToken))
            .Where(b => b.SourceSha256 == source.Sha256)
            .Select(b => new BatchStatus(b.Split, b.BatchNumber, b.Rows, b.FirstEncounterId, b.LastEncounterId, b.LoadedAt, b.LoadMilliseconds,
                cleaned.Contains((b.Split, b.BatchNumber))))
            .ToArray();
    }

    private static double Percent(long part, long whole) => whole == 0 ? 0 : Math.Round(100.0 * part / whole, 2);

    private sealed class SplitTally
    {
        public HashSet<long> Patients { get; } = [];

        public Dictionary<string, long> Readmitted { get; } = new(StringComparer.Ordinal);

        public SplitBalance ToBalance(DatasetSplit split)
        {
            var rows = Readmitted.Values.Sum();
            return new SplitBalance(split.ToName(), rows, Patients.Count, Readmitted,
                Percent(Readmitted.GetValueOrDefault("<30"), rows));
        }
    }

    private sealed class ColumnTally(EncounterColumn column)
    {
        private readonly Dictionary<string, long> _counts = new(StringComparer.Ordinal);
        private long _missing;

        public void Add(string value)
        {
            if (EncounterCleaner.Missing(value) is null)
            {
                _missing++;
            }

            _counts[value] = _counts.GetValueOrDefault(value) + 1;
        }

        public ColumnProfile ToProfile(long rows, int topValues) => new(
            column.SourceName,
            column.Kind.ToString(),
            _missing,
            Percent(_missing, rows),
            _counts.Count,
            _counts.OrderByDescending(c => c.Value).ThenBy(c => c.Key, StringComparer.Ordinal).Take(topValues)
                .Select(c => new ValueCount(c.Key, c.Value, Percent(c.Value, rows))).ToArray(),
            column.Kind is ColumnKind.Integer ? Summarise() : null,
            Note(rows));

        private string? Note(long rows)
        {
            var dropped = EncounterCleaner.DroppedColumns.Contains(column.SourceName);
            return (column.Kind, column.SourceName) switch
            {
                _ when dropped && _counts.Count <= 1 => "dropped from CLEAN DATA: constant",
                _ when dropped => $"dropped from CLEAN DATA: {Percent(_missing, rows)} % missing",
                (ColumnKind.Identifier, _) => "identifier: not a feature; patient_nbr decides the split",
                (ColumnKind.Label, _) => "outcome: CLEAN DATA's label is readmitted = '<30'",
                (ColumnKind.Diagnosis, _) => "ICD-9 code: CLEAN DATA adds its group (circulatory, diabetes, ...)",
                (_, "age") => "CLEAN DATA keeps the middle of the bracket as age_years",
                (_, "gender") => $"'{EncounterCleaner.UnknownGender}' becomes missing in CLEAN DATA",
                (_, "max_glu_serum" or "A1Cresult") => "'None' means not measured",
                (_, "discharge_disposition_id") => "11, 19, 20, 21 (expired) and 13, 14 (hospice) are left out of CLEAN DATA",
                _ when _counts.Count <= 1 => "constant",
                _ => null,
            };
        }

        private NumericSummary? Summarise()
        {
            var values = new List<(long Value, long Count)>();
            long unparsable = 0;
            foreach (var (text, count) in _counts)
            {
                if (long.TryParse(text, System.Globalization.NumberStyles.AllowLeadingSign, System.Globalization.CultureInfo.InvariantCulture, out var value))
                {
                    values.Add((value, count));
                }
                else
                {
                    unparsable += count;
                }
            }

            if (values.Count == 0)
            {
                return null;
            }

            values.Sort();
            var total = values.Sum(v => v.Count);
            var mean = values.Sum(v => (double)v.Value * v.Count) / total;
            var variance = values.Sum(v => v.Count * Math.Pow(v.Value - mean, 2)) / total;
            return new NumericSummary(values[0].Value, values[^1].Value, Math.Round(mean, 3), Median(values, total),
                Math.Round(Math.Sqrt(variance), 3), unparsable);
        }

        private static double Median(List<(long Value, long Count)> sorted, long total)
        {
            double ValueAt(long index)
            {
                foreach (var (value, count) in sorted)
                {
                    if (index < count)
                    {
                        return value;
                    }

                    index -= count;
                }

                return sorted[^1].Value;
            }

            return total % 2 == 1 ? ValueAt(total / 2) : (ValueAt(total / 2 - 1) + ValueAt(total / 2)) / 2;
        }
    }
}
