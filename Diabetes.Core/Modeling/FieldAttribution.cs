using System.Globalization;
using Diabetes.Core.Cleaning;
using Diabetes.Core.Monitoring;

namespace Diabetes.Core.Modeling;

/// <summary>
/// Which request fields each slot of the featurized vector comes from, read from the slots' names, so that a
/// learner's contributions per slot add up per request field (the dataset's column names: <c>race</c>,
/// <c>A1Cresult</c>, <c>diag_1</c>, …). A one-hot slot belongs to the field whose category it encodes (<c>diag_1</c>
/// feeds both its ICD-9 group and its code), a number to the field it was read from (<c>age</c> for its bracket's
/// midpoint). A model input that adds fields up (prior visits: outpatient, emergency and inpatient; active and changed
/// medications: one for each medication the cleaner counts, the two the model does not read too) hands each of those
/// fields the share it adds to the sum in the encounter at hand, in equal shares when the sum is zero, so nothing is
/// lost or counted twice.
/// </summary>
public sealed class FieldAttribution
{
    /// <summary>For each slot, the indexes in <see cref="Fields"/> of the fields it comes from (one, or a summed input's parts).</summary>
    private readonly int[][] _fieldsOfSlot;
    /// <summary>For each slot, the parts of the summed input it is, or null.</summary>
    private readonly Part[]?[] _partsOfSlot;
    /// <summary>Whether any slot is a medication count, whose shares need <see cref="ModelInput.CountedMedications"/>.</summary>
    private readonly bool _readsCountedMedications;

    private FieldAttribution(string[] slotNames, int[][] fieldsOfSlot, Part[]?[] partsOfSlot, string[] fields)
    {
        SlotNames = slotNames;
        _fieldsOfSlot = fieldsOfSlot;
        _partsOfSlot = partsOfSlot;
        _readsCountedMedications = slotNames.Any(name => name is nameof(ModelInput.ActiveMedications) or nameof(ModelInput.ChangedMedications));
        Fields = fields;
    }

    /// <summary>The request fields the slots come from, in the order they first appear.</summary>
    public IReadOnlyList<string> Fields { get; }

    internal IReadOnlyList<string> SlotNames { get; }

    /// <summary>The request fields one slot comes from: one, or the fields a summed input adds up.</summary>
    internal IReadOnlyList<string> FieldsOf(int slot) => _fieldsOfSlot[slot].Select(field => Fields[field]).ToArray();

    /// <summary>The map for a feature vector whose slots have these names.</summary>
    /// <exception cref="ArgumentException">A slot that comes from no model input this code knows.</exception>
    public static FieldAttribution Create(IReadOnlyList<string> slotNames)
    {
        var fields = new List<string>();
        var fieldsOfSlot = new int[slotNames.Count][];
        var partsOfSlot = new Part[]?[slotNames.Count];
        for (var slot = 0; slot < slotNames.Count; slot++)
        {
            var input = InputOf(slotNames[slot]) ?? "";
            if (Summed.TryGetValue(input, out var parts))
            {
                partsOfSlot[slot] = parts;
                fieldsOfSlot[slot] = [.. parts.Select(part => IndexOf(part.Field))];
            }
            else if (MonitoredInput.ByInput.TryGetValue(input, out var monitored))
            {
                fieldsOfSlot[slot] = [IndexOf(monitored.Field)];
            }
            else
            {
                throw new ArgumentException($"Slot {slot} of the feature vector, '{slotNames[slot]}', comes from no model input this service knows.", nameof(slotNames));
            }
        }

        return new FieldAttribution([.. slotNames], fieldsOfSlot, partsOfSlot, [.. fields]);

        int IndexOf(string field)
        {
            var index = fields.IndexOf(field);
            if (index < 0)
            {
                fields.Add(field);
                index = fields.Count - 1;
            }

            return index;
        }
    }

    /// <summary>
    /// The contributions of <paramref name="slots"/> (one per slot) summed per request field, in <see cref="Fields"/>'
    /// order; <paramref name="input"/> decides the shares of the summed inputs.
    /// </summary>
    /// <exception cref="ArgumentException">The input does not carry the medications its counts were made of (read back from CLEAN DATA).</exception>
    public double[] Sum(ReadOnlySpan<float> slots, ModelInput input)
    {
        if (_readsCountedMedications && input.CountedMedications.Count != EncounterCleaner.CountedMedications.Count)
        {
            throw new ArgumentException(
                $"The encounter carries {input.CountedMedications.Count} medication values, not the {EncounterCleaner.CountedMedications.Count} its medication counts were made of.",
                nameof(input));
        }

        var byField = new double[Fields.Count];
        for (var slot = 0; slot < slots.Length; slot++)
        {
            var contribution = slots[slot];
            if (contribution == 0)
            {
                continue;
            }

            var fields = _fieldsOfSlot[slot];
            if (_partsOfSlot[slot] is not { } parts)
            {
                byField[fields[0]] += contribution;
                continue;
            }

            var amounts = parts.Select(part => part.Amount(input)).ToArray();
            var total = amounts.Sum();
            for (var part = 0; part < amounts.Length; part++)
            {
                byField[fields[part]] += contribution * (total > 0 ? amounts[part] / total : 1.0 / amounts.Length);
            }
        }

        return byField;
    }

    /// <summary>
    /// The model input (<see cref="MonitoredInput.Input"/>) a slot comes from: <c>AgeYears</c>, <c>RaceOneHot.Caucasian</c>
    /// → <c>Race</c>, <c>MedicationsOneHot.[0].Steady</c> → <c>Medications[metformin]</c>; null when the name fits none.
    /// </summary>
    private static string? InputOf(string slotName)
    {
        var dot = slotName.IndexOf('.', StringComparison.Ordinal);
        if (dot < 0)
        {
            return slotName;
        }

        var column = slotName[..dot];
        if (!column.EndsWith(ModelInput.OneHotSuffix, StringComparison.Ordinal))
        {
            return null;
        }

        column = column[..^ModelInput.OneHotSuffix.Length];
        if (column != nameof(ModelInput.Medications))
        {
            return column;
        }

        // A vector's one-hot slots are named by position: "[index].category".
        var position = slotName.AsSpan(dot + 1);
        var close = position.IndexOf(']');
        return position.StartsWith("[") && close > 1
            && int.TryParse(position[1..close], NumberStyles.None, CultureInfo.InvariantCulture, out var index) && index < EncounterCleaner.KeptMedications.Count
            ? $"{nameof(ModelInput.Medications)}[{EncounterCleaner.KeptMedications[index]}]"
            : null;
    }

    /// <summary>A part of a summed input: the request field and how much it adds to the sum in an encounter.</summary>
    private sealed record Part(string Field, Func<ModelInput, float> Amount);

    /// <summary>The parts of a medication count: each medication the cleaner counts, by the value it counted.</summary>
    private static Part[] MedicationParts(Func<string, bool> counts) =>
        [.. EncounterCleaner.CountedMedications.Select((name, index) => new Part(name, input => counts(input.CountedMedications[index]) ? 1 : 0))];

    /// <summary>The inputs that add fields up, and their parts, as the cleaning rules compute them (<see cref="EncounterCleaner"/>).</summary>
    private static readonly IReadOnlyDictionary<string, Part[]> Summed = new Dictionary<string, Part[]>(StringComparer.Ordinal)
    {
        [nameof(ModelInput.TotalPriorVisits)] = [.. new[] { nameof(ModelInput.NumberOutpatient), nameof(ModelInput.NumberEmergency), nameof(ModelInput.NumberInpatient) }
            .Select(name => MonitoredInput.ByInput[name]).Select(visits => new Part(visits.Field, visits.Number!))],
        [nameof(ModelInput.ActiveMedications)] = MedicationParts(EncounterCleaner.IsActive),
        [nameof(ModelInput.ChangedMedications)] = MedicationParts(EncounterCleaner.IsChanged),
    };
}
