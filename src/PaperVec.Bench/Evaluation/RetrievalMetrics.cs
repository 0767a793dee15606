namespace PaperVec.Bench.Evaluation;

/// <summary>
/// nDCG@k and recall@k as BEIR computes them (pytrec_eval): graded gains rel / log2(rank + 1), the
/// ideal ranking from the judged documents, recall over documents judged relevant (score > 0),
/// each averaged over the judged queries. A document whose id equals the query's id is ignored, as
/// BEIR's evaluator does by default.
/// </summary>
public static class RetrievalMetrics
{
    public static double NdcgAtK(IReadOnlyList<string> ranked, IReadOnlyDictionary<string, int> judged, int k)
    {
        double dcg = 0;
        for (int i = 0; i < Math.Min(k, ranked.Count); i++)
            if (judged.TryGetValue(ranked[i], out int rel) && rel > 0) dcg += rel / Math.Log2(i + 2);
        var ideal = judged.Values.Where(r => r > 0).OrderByDescending(r => r).Take(k).ToArray();
        double idcg = 0;
        for (int i = 0; i < ideal.Length; i++) idcg += ideal[i] / Math.Log2(i + 2);
        return idcg == 0 ? 0 : dcg / idcg;
    }

    public static double RecallAtK(IReadOnlyList<string> ranked, IReadOnlyDictionary<string, int> judged, int k)
    {
        int relevant = judged.Count(j => j.Value > 0);
        if (relevant == 0) return 0;
        int found = ranked.Take(k).Count(id => judged.TryGetValue(id, out int rel) && rel > 0);
        return (double)found / relevant;
    }

    /// <summary>Mean nDCG@10 and recall@100 over the judged queries; <paramref name="rank"/> returns ids best first.</summary>
    public static (double Ndcg10, double Recall100) Evaluate(BeirDataset data, Func<string, IReadOnlyList<string>> rank)
    {
        double ndcg = 0, recall = 0;
        int count = 0;
        foreach (var (queryId, judged) in data.Qrels)
        {
            var ranked = rank(queryId).Where(id => id != queryId).ToList();
            ndcg += NdcgAtK(ranked, judged, 10);
            recall += RecallAtK(ranked, judged, 100);
            count++;
        }
        return count == 0 ? (0, 0) : (ndcg / count, recall / count);
    }
}
