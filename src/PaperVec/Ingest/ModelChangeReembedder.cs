using PaperVec.Embedding;
using PaperVec.Storage;

namespace PaperVec.Ingest;

/// <summary>
/// Keeps one model's vectors in a database: papers embedded by another model (the model was
/// rebuilt from other weights, or upgraded) are re-embedded before they are searched with this
/// model's queries, never silently mixed. Vectors supplied with records ("supplied") are left alone.
/// </summary>
public static class ModelChangeReembedder
{
    public const string SuppliedModelId = "supplied";

    /// <summary>Papers whose vectors came from a model other than <paramref name="modelId"/>.</summary>
    public static List<PaperRecord> Stale(PaperDatabase database, string modelId) =>
        database.Papers().Where(p => p.ModelId != modelId && p.ModelId != SuppliedModelId).ToList();

    /// <summary>Re-embeds the stale papers in durable batches; returns how many. Callers order it with other writes (<see cref="Engine.PaperCollection"/>).</summary>
    public static async Task<int> ReembedAsync(PaperDatabase database, Embedder embedder, Action<int, int>? progress = null, int batchSize = 256)
    {
        if (database.ModelId == embedder.ModelId) return 0;
        var stale = Stale(database, embedder.ModelId);
        for (int start = 0; start < stale.Count; start += batchSize)
        {
            var chunk = stale.Skip(start).Take(batchSize).ToList();
            // A paper's earlier versions are re-embedded too: duplicate reports compare them with the current one.
            var texts = chunk.SelectMany(p => p.PreviousVersions.Select(v => PaperText.ForEmbedding(v.Title, v.Abstract))
                .Append(PaperText.ForEmbedding(p.Title, p.Abstract))).ToList();
            var vectors = embedder.Embed(texts);
            var batch = new WriteBatch();
            int next = 0;
            foreach (var paper in chunk)
            {
                var versions = paper.PreviousVersions.Select(v => v with { Vector = vectors[next++] }).ToList();
                batch.PutPaper(paper with { PreviousVersions = versions, Vector = vectors[next++], ModelId = embedder.ModelId });
            }
            await database.CommitAsync(batch).ConfigureAwait(false);
            progress?.Invoke(start + chunk.Count, stale.Count);
        }
        await database.CommitAsync(new WriteBatch().PutModelId(embedder.ModelId)).ConfigureAwait(false);
        return stale.Count;
    }
}
