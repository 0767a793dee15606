using BenchmarkDotNet.Columns;
using BenchmarkDotNet.Reports;
using BenchmarkDotNet.Running;

namespace PaperVec.Benchmarks.Embedding;

/// <summary>A column turning the mean time of one operation into units per second (tokens/s, texts/s).</summary>
public sealed class ThroughputColumn(string unit, Func<BenchmarkCase, double> unitsPerOperation) : IColumn
{
    public string Id => $"Throughput-{unit}";
    public string ColumnName => $"{unit}/s";
    public bool AlwaysShow => true;
    public ColumnCategory Category => ColumnCategory.Custom;
    public int PriorityInCategory => 0;
    public bool IsNumeric => true;
    public UnitType UnitType => UnitType.Dimensionless;
    public string Legend => $"{unit} per second (units per operation / mean time)";
    public bool IsAvailable(Summary summary) => true;
    public bool IsDefault(Summary summary, BenchmarkCase benchmarkCase) => false;
    public string GetValue(Summary summary, BenchmarkCase benchmarkCase) => GetValue(summary, benchmarkCase, SummaryStyle.Default);

    public string GetValue(Summary summary, BenchmarkCase benchmarkCase, SummaryStyle style)
    {
        var stats = summary[benchmarkCase]?.ResultStatistics;
        return stats == null ? "-" : (unitsPerOperation(benchmarkCase) / (stats.Mean / 1e9)).ToString("N0");
    }
}
