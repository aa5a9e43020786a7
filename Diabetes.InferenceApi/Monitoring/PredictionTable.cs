using System.Globalization;
using Diabetes.Core.Monitoring;
using Diabetes.Core.Modeling;
using Npgsql;
using NpgsqlTypes;

namespace Diabetes.InferenceApi.Monitoring;

/// <summary>
/// The table <c>predictions</c> of the prediction log (created by the migration <c>PredictionsTable</c>): one
/// definition of the model inputs' columns, which the binary COPY writer follows.
/// </summary>
public static class PredictionTable
{
    public const string Name = "predictions";

    /// <summary>
    /// The model inputs' columns, in <see cref="MonitoredInput.All"/>'s order (<see cref="ModelInput"/>'s): the categories
    /// as text (each kept medication in a column of its own), then the numbers as <c>real</c> (the model's own <see cref="float"/>).
    /// </summary>
    public static readonly IReadOnlyList<InputColumn> InputColumns =
        MonitoredInput.All.Select(input => input.Number is { } number ? Real(input.Column, number) : Text(input.Column, input.Category!)).ToArray();

    private static readonly string CopySql =
        $"COPY {Name} (prediction_id, predicted_at, model_name, model_version, probability, threshold, predicted_readmitted, " +
        $"{string.Join(", ", InputColumns.Select(c => c.Name))}) FROM STDIN (FORMAT BINARY)";

    /// <summary>
    /// Writes the predictions in one binary COPY: all or none. Every field is written synchronously and typed into the
    /// COPY's buffer; only the end is awaited.
    /// </summary>
    public static async Task CopyAsync(NpgsqlConnection connection, IReadOnlyList<LoggedPrediction> predictions, CancellationToken cancellationToken)
    {
        await using var writer = await connection.BeginBinaryImportAsync(CopySql, cancellationToken);
        foreach (var prediction in predictions)
        {
            writer.StartRow();
            writer.Write(prediction.Id, NpgsqlDbType.Uuid);
            writer.Write(prediction.At, NpgsqlDbType.TimestampTz);
            writer.Write(prediction.ModelName, NpgsqlDbType.Text);
            writer.Write(int.Parse(prediction.ModelVersion, CultureInfo.InvariantCulture), NpgsqlDbType.Integer);
            writer.Write(prediction.Probability, NpgsqlDbType.Double);
            writer.Write(prediction.Threshold, NpgsqlDbType.Double);
            writer.Write(prediction.PredictedReadmitted, NpgsqlDbType.Boolean);
            foreach (var column in InputColumns)
            {
                column.Write(writer, prediction.Input);
            }
        }

        await writer.CompleteAsync(cancellationToken);
    }

    private static InputColumn Text(string name, Func<ModelInput, string> value) =>
        new(name, NpgsqlDbType.Text, input => value(input), (writer, input) => writer.Write(value(input), NpgsqlDbType.Text));

    private static InputColumn Real(string name, Func<ModelInput, float> value) =>
        new(name, NpgsqlDbType.Real, input => value(input), (writer, input) => writer.Write(value(input), NpgsqlDbType.Real));
}

/// <summary>
/// A model input's column: its name and type, the input's value in it, and how the COPY writes that value (typed, not
/// boxed).
/// </summary>
public sealed record InputColumn(string Name, NpgsqlDbType Type, Func<ModelInput, object> Value, Action<NpgsqlBinaryImporter, ModelInput> Write);
