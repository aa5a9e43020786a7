namespace Diabetes.Ingest.Sources;

/// <summary>
/// The line each encounter_id was first read on, for the duplicate check of one pass over a source. Ids that come in
/// ascending order (the dataset's arrival order: all but 134 of the real file's 101,766 lines) are appended to two sorted
/// arrays and found by binary search, 16 bytes an id; only the ids that come out of order go to a hash table (about
/// 30 bytes an id). A hash table for every id would take 28 to 56 bytes an id, growth included.
/// </summary>
internal sealed class EncounterFirstLines
{
    private readonly List<long> _ascendingIds = [];
    private readonly List<long> _ascendingLines = [];
    private readonly Dictionary<long, long> _outOfOrder = [];

    /// <summary>Records the id's line, unless the id was read before: then answers false and the line it was first on.</summary>
    public bool TryAdd(long encounterId, long line, out long firstLine)
    {
        // An id above every ascending one is new: the out-of-order ids are all below the ascending ids' largest.
        if (_ascendingIds.Count == 0 || encounterId > _ascendingIds[^1])
        {
            _ascendingIds.Add(encounterId);
            _ascendingLines.Add(line);
            firstLine = line;
            return true;
        }

        var index = _ascendingIds.BinarySearch(encounterId);
        if (index >= 0)
        {
            firstLine = _ascendingLines[index];
            return false;
        }

        if (!_outOfOrder.TryAdd(encounterId, line))
        {
            firstLine = _outOfOrder[encounterId];
            return false;
        }

        firstLine = line;
        return true;
    }
}
