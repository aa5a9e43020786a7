using System.Buffers.Binary;
using System.Security.Cryptography;
using System.Text;

namespace Diabetes.Ingest.Sources;

/// <summary>
/// The train rows of one source in encounter_id order, in a local file, with where each batch of the source's batch
/// size starts: a batch is read back alone, without parsing the source again or holding the train rows in memory.
/// Written while the source is split; written again from the stored source when missing, damaged or not matching the
/// ledger (a restarted service, another replica): the stored source is checked against its hash, so the same code cuts
/// the same batches from it.
/// </summary>
/// <remarks>
/// A row is an <c>int</c> length of the rest, the encounter id, the patient number and the line number as <c>long</c>s, and
/// the 50 fields as length-prefixed UTF-8; after the rows come each batch's start and SHA-256, the source's SHA-256, the
/// row count, the batch size and <see cref="FormatMark"/> (which changes with the layout). A file is complete once it
/// has its name: it is written under another, flushed to the disk and renamed.
/// </remarks>
public sealed class TrainBatchFile : IDisposable
{
    private const int FormatMark = 0x31_42_52_54; // "TRB1"
    /// <summary>The trailer after the batch entries: the source's SHA-256, the row count, the batch size, the mark.</summary>
    private const int TrailerTailLength = SHA256.HashSizeInBytes + 3 * sizeof(int);
    private const int BatchEntry = sizeof(long) + SHA256.HashSizeInBytes;

    private readonly FileStream _file;
    private readonly long[] _batchStarts;
    private readonly byte[][] _batchDigests;
    private readonly long _rowsEnd;

    private TrainBatchFile(
        FileStream file, string sourceSha256, int rows, int batchSize, long[] batchStarts, byte[][] batchDigests, long rowsEnd)
    {
        _file = file;
        SourceSha256 = sourceSha256;
        Rows = rows;
        BatchSize = batchSize;
        _batchStarts = batchStarts;
        _batchDigests = batchDigests;
        _rowsEnd = rowsEnd;
    }

    /// <summary>The SHA-256 of the source the rows were read from, as lower-case hex.</summary>
    public string SourceSha256 { get; }

    public int Rows { get; }

    public int BatchSize { get; }

    public int Batches => _batchStarts.Length;

    /// <summary>Opens the file, or answers null when there is none (or one this code cannot read).</summary>
    public static TrainBatchFile? TryOpen(string path)
    {
        FileStream file;
        try
        {
            file = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.ReadWrite | FileShare.Delete);
        }
        catch (Exception exception) when (exception is FileNotFoundException or DirectoryNotFoundException)
        {
            return null;
        }

        try
        {
            var opened = Read(file);
            if (opened is null)
            {
                file.Dispose();
            }

            return opened;
        }
        catch
        {
            file.Dispose();
            throw;
        }
    }

    /// <summary>Whether batch <paramref name="batchNumber"/>'s bytes still have the SHA-256 written with them.</summary>
    public bool IsIntact(int batchNumber)
    {
        CheckBatchNumber(batchNumber);
        var start = _batchStarts[batchNumber - 1];
        var end = batchNumber < Batches ? _batchStarts[batchNumber] : _rowsEnd;
        _file.Position = start;
        using var hash = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
        var buffer = new byte[64 * 1024];
        for (var left = end - start; left > 0;)
        {
            var read = _file.Read(buffer, 0, (int)Math.Min(buffer.Length, left));
            if (read == 0)
            {
                return false;
            }

            hash.AppendData(buffer, 0, read);
            left -= read;
        }

        return hash.GetHashAndReset().AsSpan().SequenceEqual(_batchDigests[batchNumber - 1]);
    }

    /// <summary>The encounter id batch <paramref name="batchNumber"/> starts with.</summary>
    public long FirstEncounterIdOf(int batchNumber)
    {
        CheckBatchNumber(batchNumber);
        _file.Position = _batchStarts[batchNumber - 1] + sizeof(int);
        Span<byte> id = stackalloc byte[sizeof(long)];
        _file.ReadExactly(id);
        return BinaryPrimitives.ReadInt64LittleEndian(id);
    }

    /// <summary>Batch <paramref name="batchNumber"/> (from 1): the rows of that rank in encounter_id order.</summary>
    public IEnumerable<SourceRow> ReadBatch(int batchNumber)
    {
        CheckBatchNumber(batchNumber);
        _file.Position = _batchStarts[batchNumber - 1];
        var count = Math.Min(BatchSize, Rows - (batchNumber - 1) * BatchSize);
        using var reader = new BinaryReader(new BufferedStream(_file, 64 * 1024), Encoding.UTF8, leaveOpen: true);
        for (var i = 0; i < count; i++)
        {
            reader.ReadInt32();
            var encounterId = reader.ReadInt64();
            var patientNbr = reader.ReadInt64();
            var line = reader.ReadInt64();
            var fields = new string[EncounterSchema.Columns.Count];
            for (var f = 0; f < fields.Length; f++)
            {
                fields[f] = reader.ReadString();
            }

            yield return new SourceRow(line, encounterId, patientNbr, DatasetSplit.Train, fields);
        }
    }

    public void Dispose() => _file.Dispose();

    private void CheckBatchNumber(int batchNumber)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(batchNumber, 1);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(batchNumber, Batches);
    }

    private static TrainBatchFile? Read(FileStream file)
    {
        if (file.Length < TrailerTailLength)
        {
            return null;
        }

        using var reader = new BinaryReader(file, Encoding.UTF8, leaveOpen: true);
        file.Position = file.Length - TrailerTailLength;
        var sourceSha256 = Convert.ToHexStringLower(reader.ReadBytes(SHA256.HashSizeInBytes));
        var rows = reader.ReadInt32();
        var batchSize = reader.ReadInt32();
        if (reader.ReadInt32() != FormatMark || rows < 0 || batchSize <= 0)
        {
            return null;
        }

        var batches = (int)((rows + (long)batchSize - 1) / batchSize);
        var rowsEnd = file.Length - TrailerTailLength - batches * (long)BatchEntry;
        if (rowsEnd < 0)
        {
            return null;
        }

        file.Position = rowsEnd;
        var batchStarts = new long[batches];
        var batchDigests = new byte[batches][];
        for (var i = 0; i < batches; i++)
        {
            batchStarts[i] = reader.ReadInt64();
            batchDigests[i] = reader.ReadBytes(SHA256.HashSizeInBytes);
            var previousEnd = i == 0 ? 0 : batchStarts[i - 1] + 1;
            if (i == 0 && batchStarts[i] != 0 || batchStarts[i] < previousEnd || batchStarts[i] >= rowsEnd)
            {
                return null;
            }
        }

        return new TrainBatchFile(file, sourceSha256, rows, batchSize, batchStarts, batchDigests, rowsEnd);
    }

    /// <summary>
    /// Writes the train rows of one pass over a source, in the order read, and puts them in encounter_id order at the end.
    /// Rows that come in ascending order go straight to the file; the few that do not (82 of the real dataset's 71,091)
    /// go to a side file, with their id and place held in memory (16 bytes a row, 48 while they are sorted), and are
    /// merged in at the end. A source far from that order sends most rows to the side file: it still works, reading
    /// each side row with its own seek, but that memory then grows with the train rows.
    /// </summary>
    public sealed class Writer : IDisposable
    {
        private const int BufferSize = 64 * 1024;

        private readonly string _path;
        private readonly byte[] _sourceSha256;
        private readonly int _batchSize;
        private readonly string _mainPath;
        private readonly string _sidePath;
        private readonly string _mergedPath;
        private readonly FileStream _main;
        private readonly BatchDigests _mainBatches = new();
        private FileStream? _side;
        private readonly List<long> _sideIds = [];
        private readonly List<long> _sideStarts = [];
        private readonly MemoryStream _record = new();
        private readonly BinaryWriter _recordWriter;
        private int _mainRows;
        private long _lastMainId;

        public Writer(WorkDirectory work, string sha256, int batchSize)
        {
            _path = work.TrainFile(sha256, batchSize);
            _sourceSha256 = Convert.FromHexString(sha256);
            _batchSize = batchSize;
            _mainPath = work.NewTemporaryFile("train-rows");
            _sidePath = work.NewTemporaryFile("train-side-rows");
            _mergedPath = work.NewTemporaryFile("train-merged-rows");
            _main = NewFile(_mainPath);
            _recordWriter = new BinaryWriter(_record, Encoding.UTF8, leaveOpen: true);
        }

        public int Rows => _mainRows + _sideIds.Count;

        public void Add(SourceRow row)
        {
            _record.SetLength(0);
            _recordWriter.Write(row.EncounterId);
            _recordWriter.Write(row.PatientNbr);
            _recordWriter.Write(row.LineNumber);
            foreach (var field in row.Fields)
            {
                _recordWriter.Write(field);
            }

            _recordWriter.Flush();
            var record = _record.GetBuffer().AsSpan(0, (int)_record.Length);
            if (row.EncounterId > _lastMainId)
            {
                _lastMainId = row.EncounterId;
                _mainBatches.Write(_main, record, startsBatch: _mainRows++ % _batchSize == 0);
            }
            else
            {
                // Unbuffered: the merge seeks to each side row, and a buffer would be refilled for every one of them.
                _side ??= NewFile(_sidePath, bufferSize: 0);
                _sideIds.Add(row.EncounterId);
                _sideStarts.Add(_side.Position);
                WriteRecord(_side, record);
            }
        }

        /// <summary>Orders the rows, writes each batch's start and digest, and gives the file its name; answers it open.</summary>
        public TrainBatchFile Complete()
        {
            var written = _mainPath;
            if (_side is null)
            {
                WriteTrailer(_main, _mainBatches);
                _main.Flush(flushToDisk: true);
            }
            else
            {
                written = _mergedPath;
                using var merged = NewFile(written);
                using var mergedBatches = Merge(merged);
                WriteTrailer(merged, mergedBatches);
                merged.Flush(flushToDisk: true);
            }

            _main.Dispose();
            _side?.Dispose();
            // The merged file holds every row: the others would only take space while the caller goes on.
            if (written != _mainPath)
            {
                File.Delete(_mainPath);
            }

            File.Delete(_sidePath);
            // Opened before the rename: a concurrent delete of the name cannot take the file from this caller.
            var opened = TryOpen(written) ?? throw new InvalidDataException($"{written} was written but cannot be read back.");
            try
            {
                File.Move(written, _path, overwrite: true);
                return opened;
            }
            catch
            {
                opened.Dispose();
                throw;
            }
        }

        /// <summary>Merges the ascending rows of the main file with the side rows, in id order, into <paramref name="merged"/>.</summary>
        private BatchDigests Merge(FileStream merged)
        {
            var side = _side!;
            var sideIds = _sideIds.ToArray();
            var sideStarts = _sideStarts.ToArray();
            Array.Sort(sideIds, sideStarts);

            _main.Position = 0;
            var mainRecord = new byte[BufferSize];
            var sideRecord = new byte[BufferSize];
            var mainLeft = _mainRows;
            var mainLength = mainLeft > 0 ? ReadRecord(_main, ref mainRecord) : 0;
            var nextSide = 0;
            var batches = new BatchDigests();
            for (var row = 0; row < Rows; row++)
            {
                var startsBatch = row % _batchSize == 0;
                if (nextSide < sideIds.Length && (mainLeft == 0 || sideIds[nextSide] < BinaryPrimitives.ReadInt64LittleEndian(mainRecord)))
                {
                    side.Position = sideStarts[nextSide++];
                    batches.Write(merged, sideRecord.AsSpan(0, ReadRecord(side, ref sideRecord)), startsBatch);
                }
                else
                {
                    batches.Write(merged, mainRecord.AsSpan(0, mainLength), startsBatch);
                    mainLength = --mainLeft > 0 ? ReadRecord(_main, ref mainRecord) : 0;
                }
            }

            return batches;
        }

        /// <summary>Reads one row (without its length) into <paramref name="record"/>, grown when too small; answers its length.</summary>
        private static int ReadRecord(Stream file, ref byte[] record)
        {
            Span<byte> length = stackalloc byte[sizeof(int)];
            file.ReadExactly(length);
            var size = BinaryPrimitives.ReadInt32LittleEndian(length);
            if (record.Length < size)
            {
                record = new byte[size];
            }

            file.ReadExactly(record, 0, size);
            return size;
        }

        private static void WriteRecord(Stream file, ReadOnlySpan<byte> record, IncrementalHash? hash = null)
        {
            Span<byte> length = stackalloc byte[sizeof(int)];
            BinaryPrimitives.WriteInt32LittleEndian(length, record.Length);
            file.Write(length);
            file.Write(record);
            hash?.AppendData(length);
            hash?.AppendData(record);
        }

        private void WriteTrailer(FileStream file, BatchDigests batches)
        {
            using var writer = new BinaryWriter(file, Encoding.UTF8, leaveOpen: true);
            foreach (var (start, digest) in batches.Complete())
            {
                writer.Write(start);
                writer.Write(digest);
            }

            writer.Write(_sourceSha256);
            writer.Write(Rows);
            writer.Write(_batchSize);
            writer.Write(FormatMark);
        }

        private static FileStream NewFile(string path, int bufferSize = BufferSize) =>
            new(path, FileMode.CreateNew, FileAccess.ReadWrite, FileShare.Read | FileShare.Delete, bufferSize);

        /// <summary>Disposes the files and deletes what is left under a temporary name (all of it unless completed).</summary>
        public void Dispose()
        {
            _main.Dispose();
            _side?.Dispose();
            _recordWriter.Dispose();
            _mainBatches.Dispose();
            File.Delete(_mainPath);
            File.Delete(_sidePath);
            File.Delete(_mergedPath);
        }

        /// <summary>The rows written to one file in batch order: where each batch starts, and the SHA-256 of its bytes.</summary>
        private sealed class BatchDigests : IDisposable
        {
            private readonly IncrementalHash _hash = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
            private readonly List<(long Start, byte[] Digest)> _batches = [];
            private long _currentStart = -1;

            public void Write(Stream file, ReadOnlySpan<byte> record, bool startsBatch)
            {
                if (startsBatch)
                {
                    EndBatch();
                    _currentStart = file.Position;
                }

                WriteRecord(file, record, _hash);
            }

            public IReadOnlyList<(long Start, byte[] Digest)> Complete()
            {
                EndBatch();
                return _batches;
            }

            private void EndBatch()
            {
                if (_currentStart >= 0)
                {
                    _batches.Add((_currentStart, _hash.GetHashAndReset()));
                    _currentStart = -1;
                }
            }

            public void Dispose() => _hash.Dispose();
        }
    }
}
