using PaperVec.Index;

namespace PaperVec.Tests.Index;

/// <summary>Damaged files must fail loudly with <see cref="InvalidDataException"/>, never crash or load a wrong graph.</summary>
public sealed class HnswPersistenceTests : IDisposable
{
    readonly string _directory = Directory.CreateTempSubdirectory("pv-hnsw-").FullName;
    readonly string _path;
    readonly byte[] _good;

    public HnswPersistenceTests()
    {
        var random = new Random(4);
        using var index = new HnswIndex(24, new HnswOptions { M = 6, EfConstruction = 40, InitialCapacity = 16 });
        for (int i = 0; i < 300; i++)
        {
            var v = Enumerable.Range(0, 24).Select(_ => (float)random.NextDouble() - 0.5f).ToArray();
            VectorKernels.Normalize(v);
            index.Add(i, v);
        }
        for (int i = 0; i < 300; i += 7) index.Remove(i);
        index.Repair();
        index.Remove(1); // one deleted node still linked
        _path = Path.Combine(_directory, "index.hnsw");
        index.Save(_path);
        _good = File.ReadAllBytes(_path);
    }

    public void Dispose() => Directory.Delete(_directory, recursive: true);

    InvalidDataException LoadBroken(byte[] bytes)
    {
        string broken = Path.Combine(_directory, "broken.hnsw");
        File.WriteAllBytes(broken, bytes);
        return Assert.Throws<InvalidDataException>(() => HnswIndex.Load(broken));
    }

    [Fact]
    public void SavedFileLoadsAndLeavesNoTempFileBehind()
    {
        using var loaded = HnswIndex.Load(_path);
        loaded.CheckIntegrity();
        Assert.Equal(300 - 43 - 1, loaded.LiveCount);
        Assert.Equal(1, loaded.DeletedCount);
        Assert.Equal(["index.hnsw"], Directory.GetFiles(_directory).Select(Path.GetFileName));
    }

    [Fact]
    public void EveryTruncationIsAClearError()
    {
        for (int length = 0; length < _good.Length; length += Math.Max(1, length / 5))
            Assert.Contains("HNSW index file", LoadBroken(_good[..length]).Message);
        LoadBroken(_good[..^1]);
        LoadBroken([.. _good, 0]);
    }

    [Fact]
    public void AFlippedByteAnywhereIsCaught()
    {
        var random = new Random(8);
        for (int trial = 0; trial < 200; trial++)
        {
            var bytes = (byte[])_good.Clone();
            int position = trial < 80 ? trial : random.Next(bytes.Length); // the whole header, then anywhere
            bytes[position] ^= (byte)(1 << random.Next(8));
            LoadBroken(bytes);
        }
    }

    [Fact]
    public void ForeignAndFutureFilesAreRejectedByName()
    {
        var foreign = (byte[])_good.Clone();
        foreign[0] = (byte)'X';
        Assert.Contains("bad magic", LoadBroken(foreign).Message);
        var future = (byte[])_good.Clone();
        future[8] = 2;
        Assert.Contains("format version 2", LoadBroken(future).Message);
    }

    [Fact]
    public void SavingOverAnExistingFileReplacesItWhole()
    {
        using var small = new HnswIndex(24, new HnswOptions { M = 6 });
        small.Add(5, Enumerable.Repeat(0.2f, 24).ToArray());
        small.Save(_path);
        using var loaded = HnswIndex.Load(_path);
        Assert.Equal(1, loaded.LiveCount);
        Assert.True(loaded.Contains(5));
    }
}
