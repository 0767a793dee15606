using System.Runtime.InteropServices;

namespace PaperVec.Index;

/// <summary>
/// Rows of <see cref="Dimension"/> floats in one contiguous native block, each row starting on a
/// 64-byte boundary (the stride is padded to 16 floats; 384 needs no padding), so scans stream
/// through memory and every row load is cache-line aligned. Growing copies into a larger block:
/// the owner must make sure nobody reads while <see cref="EnsureCapacity"/> reallocates. Large
/// stores sit on 2 MB pages where the OS allows (<see cref="NativeBlock"/>).
/// </summary>
public sealed unsafe class VectorStore : IDisposable
{
    const int Alignment = 64;
    float* _data;

    public VectorStore(int dimension, int initialCapacity = 1024)
    {
        if (dimension <= 0) throw new ArgumentOutOfRangeException(nameof(dimension));
        Dimension = dimension;
        Stride = (dimension + 15) & ~15;
        EnsureCapacity(Math.Max(1, initialCapacity));
    }

    public int Dimension { get; }

    /// <summary>Floats from one row's start to the next's.</summary>
    public int Stride { get; }

    /// <summary>Rows in use.</summary>
    public int Count { get; private set; }

    /// <summary>Rows allocated.</summary>
    public int Capacity { get; private set; }

    public long AllocatedBytes => (long)Capacity * Stride * sizeof(float);

    /// <summary>Start of row 0; rows follow <see cref="Stride"/> floats apart.</summary>
    public float* BasePointer => _data;

    public float* RowPointer(int row) => _data + (nint)row * Stride;

    public Span<float> Row(int row)
    {
        if ((uint)row >= (uint)Count) throw new ArgumentOutOfRangeException(nameof(row));
        return new Span<float>(RowPointer(row), Dimension);
    }

    /// <summary>All rows in use, including the padding between rows.</summary>
    public ReadOnlySpan<float> Rows => new(_data, Count * Stride);

    public int Append(ReadOnlySpan<float> vector)
    {
        CheckLength(vector);
        if (Count == Capacity) EnsureCapacity(Capacity + Math.Max(16, Capacity / 2));
        int row = Count;
        vector.CopyTo(new Span<float>(RowPointer(row), Dimension));
        Count = row + 1;
        return row;
    }

    public void Write(int row, ReadOnlySpan<float> vector)
    {
        CheckLength(vector);
        if ((uint)row >= (uint)Count) throw new ArgumentOutOfRangeException(nameof(row));
        vector.CopyTo(new Span<float>(RowPointer(row), Dimension));
    }

    /// <summary>Moves the last row into <paramref name="row"/> and drops the last (swap-remove).</summary>
    public void RemoveBySwappingLast(int row)
    {
        if ((uint)row >= (uint)Count) throw new ArgumentOutOfRangeException(nameof(row));
        int last = Count - 1;
        if (row != last) Buffer.MemoryCopy(RowPointer(last), RowPointer(row), Stride * sizeof(float), Stride * sizeof(float));
        Count = last;
    }

    /// <summary>Sets the number of rows in use (rows past the old count hold zeros), growing if needed.</summary>
    public void SetCount(int count)
    {
        if (count < 0) throw new ArgumentOutOfRangeException(nameof(count));
        EnsureCapacity(count);
        Count = count;
    }

    public void EnsureCapacity(int rows)
    {
        if (rows <= Capacity) return;
        nuint bytes = (nuint)rows * (nuint)Stride * sizeof(float);
        // Zeroed so the padding floats never hold garbage that a whole-stride copy would spread;
        // large blocks get huge pages (see NativeBlock).
        var fresh = (float*)NativeBlock.AllocateZeroed(bytes, Alignment);
        if (_data != null)
        {
            Buffer.MemoryCopy(_data, fresh, (long)bytes, (long)Count * Stride * sizeof(float));
            NativeBlock.Free(_data);
        }
        _data = fresh;
        Capacity = rows;
    }

    void CheckLength(ReadOnlySpan<float> vector)
    {
        if (vector.Length != Dimension)
            throw new ArgumentException($"Vector has {vector.Length} floats, the store holds {Dimension}.", nameof(vector));
    }

    public void Dispose()
    {
        if (_data != null) NativeBlock.Free(_data);
        _data = null;
        Capacity = Count = 0;
        GC.SuppressFinalize(this);
    }

    ~VectorStore()
    {
        if (_data != null) NativeBlock.Free(_data);
    }
}
