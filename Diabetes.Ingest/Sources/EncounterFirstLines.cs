namespace Diabetes.Ingest.Sources;

/// <summary>
/// The line each encounter_id was first read on, for the duplicate check of one pass over a source: 16 bytes an id,
/// 1.6 MB per 100,000 rows. Ids that come in ascending order (the dataset's arrival order: all but 134 of the real
/// file's 101,766 lines) are appended to chunks found by binary search; chunks of 8,192 stay off the large object heap
/// and nothing is copied as they grow. Only the ids that come out of order go to a hash table.
/// </summary>
internal sealed class EncounterFirstLines
{
    private const int ChunkSize = 8_192;

    private readonly List<long[]> _idChunks = [];
    private readonly List<long[]> _lineChunks = [];
    private readonly Dictionary<long, long> _outOfOrder = [];
    private int _ascending;

    /// <summary>Records the id's line, unless the id was read before: then answers false and the line it was first on.</summary>
    public bool TryAdd(long encounterId, long line, out long firstLine)
    {
        // An id above every ascending one is new: the out-of-order ids are all below the largest ascending id.
        if (_ascending == 0 || encounterId > _idChunks[^1][(_ascending - 1) % ChunkSize])
        {
            Append(encounterId, line);
            firstLine = line;
            return true;
        }

        if (FindAscending(encounterId) is { } ascendingLine)
        {
            firstLine = ascendingLine;
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

    private void Append(long encounterId, long line)
    {
        var offset = _ascending % ChunkSize;
        if (offset == 0)
        {
            _idChunks.Add(new long[ChunkSize]);
            _lineChunks.Add(new long[ChunkSize]);
        }

        _idChunks[^1][offset] = encounterId;
        _lineChunks[^1][offset] = line;
        _ascending++;
    }

    private long? FindAscending(long encounterId)
    {
        // The last chunk that starts at or below the id.
        var (low, high) = (0, _idChunks.Count - 1);
        while (low < high)
        {
            var middle = (low + high + 1) / 2;
            (low, high) = _idChunks[middle][0] <= encounterId ? (middle, high) : (low, middle - 1);
        }

        var length = low == _idChunks.Count - 1 ? _ascending - low * ChunkSize : ChunkSize;
        var index = Array.BinarySearch(_idChunks[low], 0, length, encounterId);
        return index >= 0 ? _lineChunks[low][index] : null;
    }
}
