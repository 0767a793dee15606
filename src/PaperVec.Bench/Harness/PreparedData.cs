using PaperVec.Engine;
using System.Diagnostics;
using System.Text.Json;
using PaperVec.Ingest;
using PaperVec.Embedding;
using PaperVec.Index;
using PaperVec.Storage;
using PaperVec.Bench.Datasets;
using PaperVec.Cli.Common;

namespace PaperVec.Bench.Harness;

/// <summary>What a prepared data directory holds: N synthetic papers with clustered vectors, or the first N records of a corpus, embedded.</summary>
public sealed record PreparedDataSpec(int Papers, FileInfo? Corpus, int Seed = 1)
{
    /// <summary>Folder name that changes whenever the contents would: kind, size, seed, and the corpus file's name, length and time.</summary>
    public string Key => Corpus == null
        ? $"synthetic-{Papers}-seed{Seed}-clusters{Clusters}"
        : $"corpus-{Path.GetFileNameWithoutExtension(Corpus.Name)}-{Corpus.Length}-{Corpus.LastWriteTimeUtc.Ticks}-{Papers}";

    /// <summary>Clusters of the synthetic vectors: one per 10 papers, as `bench index --dataset clustered` uses for 200k.</summary>
    public int Clusters => Math.Max(1, Papers / 10);
}

/// <summary>
/// A data directory ready to serve, kept in a cache folder keyed by what it holds and reused by
/// later runs: building the HNSW index for 200k papers takes minutes. The paper ids are listed in
/// ids.txt; prepared.json is written last, so an interrupted preparation is redone, not reused.
/// </summary>
public sealed class PreparedData
{
    public const string IdsFile = "ids.txt", MarkerFile = "prepared.json";

    public required string Directory { get; init; }
    public required IReadOnlyList<string> PaperIds { get; init; }
    public required bool Reused { get; init; }

    public static string DefaultCacheRoot() => Path.Combine(Path.GetTempPath(), "papervec-bench");

    /// <summary>Returns the prepared directory for <paramref name="spec"/> under <paramref name="cacheRoot"/>, preparing it first when missing.</summary>
    public static async Task<PreparedData> EnsureAsync(PreparedDataSpec spec, string cacheRoot, string? modelDirectory, Action<string> log)
    {
        string dir = Path.Combine(cacheRoot, spec.Key);
        bool reused = File.Exists(Path.Combine(dir, MarkerFile));
        if (!reused)
        {
            if (System.IO.Directory.Exists(dir)) System.IO.Directory.Delete(dir, true);
            System.IO.Directory.CreateDirectory(dir);
            var clock = Stopwatch.StartNew();
            using var embedder = Embedder.Load(new EmbedderOptions { ModelDirectory = modelDirectory });
            var ids = spec.Corpus == null ? await WriteSyntheticAsync(dir, spec, embedder.ModelId, log) : await WriteCorpusAsync(dir, spec, embedder, log);
            File.WriteAllLines(Path.Combine(dir, IdsFile), ids);
            File.WriteAllText(Path.Combine(dir, MarkerFile), JsonSerializer.Serialize(new { spec.Papers, corpus = spec.Corpus?.FullName, spec.Seed, spec.Clusters, seconds = Math.Round(clock.Elapsed.TotalSeconds, 1) }));
            log($"prepared {ids.Count} papers in {dir} ({clock.Elapsed.TotalSeconds:0} s)");
        }
        else log($"reusing the prepared data directory {dir}");
        return new PreparedData { Directory = dir, PaperIds = File.ReadAllLines(Path.Combine(dir, IdsFile)), Reused = reused };
    }

    /// <summary>
    /// Synthetic papers (SyntheticPapers' text) with vectors clustered like real embeddings
    /// (ClusteredDataset), stored in durable batches of 2,000 whose index inserts run in parallel.
    /// The model id is stored too, so the server does not scan every paper for stale vectors at start.
    /// </summary>
    static async Task<List<string>> WriteSyntheticAsync(string dir, PreparedDataSpec spec, string modelId, Action<string> log)
    {
        var vectors = ClusteredDataset.Generate(spec.Papers, 0, 384, spec.Clusters, spec.Seed);
        var ids = new List<string>(spec.Papers);
        await using var db = await PaperDatabase.OpenAsync(dir, new PaperDatabaseOptions { Index = new HnswOptions { InitialCapacity = spec.Papers } });
        await db.CommitAsync(new WriteBatch().PutModelId(modelId));
        using var progress = new ConsoleProgress("preparing synthetic papers", spec.Papers, "papers");
        for (int start = 0; start < spec.Papers; start += 2000)
        {
            var batch = new WriteBatch();
            for (int n = start; n < Math.Min(spec.Papers, start + 2000); n++)
            {
                var paper = SyntheticPapers.Create(n) with { Vector = vectors.BaseRow(n).ToArray() }; // ModelId stays "supplied": no model made these
                batch.PutPaper(paper);
                ids.Add(PaperIdentity.Format(paper.Key));
            }
            await db.CommitAsync(batch);
            progress.Report(Math.Min(spec.Papers, start + 2000));
        }
        await db.CheckpointAsync();
        return ids;
    }

    /// <summary>The corpus's first N records, embedded and ingested as `papervec ingest` would.</summary>
    static async Task<List<string>> WriteCorpusAsync(string dir, PreparedDataSpec spec, Embedder embedder, Action<string> log)
    {
        if (!spec.Corpus!.Exists) throw new CliException($"no such file: {spec.Corpus.FullName}");
        var records = File.ReadLines(spec.Corpus.FullName).Where(l => !string.IsNullOrWhiteSpace(l)).Take(spec.Papers)
            .Select((line, i) => PaperRecordReader.ReadLine(line, $"{spec.Corpus.Name}:{i + 1}")).ToList();
        var ids = new List<string>(records.Count);
        // Through the collection, as `papervec ingest` does; closing it writes the checkpoint.
        await using var collection = await PaperCollection.OpenAsync(dir, new PaperDatabaseOptions { Index = new HnswOptions { InitialCapacity = records.Count } });
        await collection.AttachModelAsync(embedder);
        using var progress = new ConsoleProgress("embedding and storing corpus papers", records.Count, "papers");
        for (int start = 0; start < records.Count; start += 256)
        {
            var result = await collection.IngestAsync(records.Skip(start).Take(256).ToList(), defaultDate: new DateOnly(2025, 3, 11));
            ids.AddRange(result.Listings.Select(l => PaperIdentity.Format(l.Key)));
            progress.Report(Math.Min(records.Count, start + 256));
        }
        return ids.Distinct().ToList();
    }

    /// <summary>A scratch copy for runs that write, so the cached directory stays as prepared.</summary>
    public string CopyForWrites()
    {
        string copy = System.IO.Directory.CreateTempSubdirectory("papervec-bench-run-").FullName;
        foreach (var file in System.IO.Directory.EnumerateFiles(Directory, "*", SearchOption.AllDirectories))
        {
            string target = Path.Combine(copy, Path.GetRelativePath(Directory, file));
            System.IO.Directory.CreateDirectory(Path.GetDirectoryName(target)!);
            File.Copy(file, target);
        }
        return copy;
    }
}
