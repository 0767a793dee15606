using PaperVec.Duplicates;
using PaperVec.Storage;

namespace PaperVec.Bench.Evaluation;

/// <summary>Recall of one kind of true duplicate pair.</summary>
public sealed record KindRecall(DuplicateKind Kind, int TruePairs, int Found)
{
    public double Recall => TruePairs == 0 ? 1 : (double)Found / TruePairs;
}

/// <summary>
/// How well duplicate groups match the truth, counted over pairs of listings in different digests:
/// a pair is true when both listings are the same work, predicted when both are in one group.
/// </summary>
public sealed record DuplicateGrade(IReadOnlyList<KindRecall> Kinds, int PredictedPairs, int CorrectPredictedPairs, int Groups, int GroupsOfRightKind)
{
    /// <summary>Titles of the pairs called duplicates that are different works, and of the true pairs missed.</summary>
    public List<(string A, string B)> FalsePairs { get; } = [];
    public List<(string A, string B, DuplicateKind Kind)> MissedPairs { get; } = [];

    public double Precision => PredictedPairs == 0 ? 1 : (double)CorrectPredictedPairs / PredictedPairs;
    public int TruePairs => Kinds.Sum(k => k.TruePairs);
    public double Recall => TruePairs == 0 ? 1 : (double)Kinds.Sum(k => k.Found) / TruePairs;
    public double RecallOf(DuplicateKind kind) => Kinds.Single(k => k.Kind == kind).Recall;
    public double KindAccuracy => Groups == 0 ? 1 : (double)GroupsOfRightKind / Groups;

    public static DuplicateGrade Grade(IReadOnlyList<GeneratedDigest> digests, IReadOnlyList<DuplicateGroup> groups, Func<GeneratedDigest, string> digestId)
    {
        // Each listing is known to PaperVec as (digest id, paper id); the paper id of a digest listing is its title's key.
        var truth = new Dictionary<(string Digest, string PaperId), GeneratedListing>();
        foreach (var d in digests)
            foreach (var l in d.Listings)
                truth[(digestId(d), PaperIdentity.Format(PaperIdentity.KeyOfTitle(l.Title)))] = l;

        var groupOf = new Dictionary<(string, string), int>();
        for (int g = 0; g < groups.Count; g++)
            foreach (var m in groups[g].Members) groupOf[(m.Digest, m.PaperId)] = g;

        var found = new Dictionary<DuplicateKind, (int True, int Found)>();
        var missed = new List<(string, string, DuplicateKind)>();
        var falsePairs = new List<(string, string)>();
        foreach (var kind in Enum.GetValues<DuplicateKind>()) found[kind] = (0, 0);
        foreach (var work in truth.GroupBy(t => t.Value.WorkId))
        {
            var all = work.ToList();
            for (int i = 0; i < all.Count; i++)
            for (int j = i + 1; j < all.Count; j++)
            {
                var (a, b) = (all[i], all[j]);
                if (a.Key.Digest == b.Key.Digest) continue; // a pair spans two digests
                var kind = DuplicateDigestSet.KindBetween(a.Value, b.Value);
                bool together = groupOf.TryGetValue(a.Key, out int ga) && groupOf.TryGetValue(b.Key, out int gb) && ga == gb;
                var (t, f) = found[kind];
                found[kind] = (t + 1, f + (together ? 1 : 0));
                if (!together) missed.Add((a.Value.Title, b.Value.Title, kind));
            }
        }

        int predicted = 0, correct = 0, rightKind = 0;
        foreach (var group in groups)
        {
            var members = group.Members.Select(m => truth.TryGetValue((m.Digest, m.PaperId), out var l) ? l : null).ToList();
            var strongest = DuplicateKind.Exact;
            for (int i = 0; i < members.Count; i++)
                for (int j = i + 1; j < members.Count; j++)
                {
                    if (group.Members[i].Digest == group.Members[j].Digest) continue;
                    predicted++;
                    if (members[i] is { } a && members[j] is { } b && a.WorkId == b.WorkId)
                    {
                        correct++;
                        var kind = DuplicateDigestSet.KindBetween(a, b);
                        if (kind > strongest) strongest = kind;
                    }
                    else falsePairs.Add((group.Members[i].Title, group.Members[j].Title));
                }
            if (strongest == group.Kind) rightKind++;
        }
        var grade = new DuplicateGrade(found.Select(kv => new KindRecall(kv.Key, kv.Value.True, kv.Value.Found)).ToList(), predicted, correct, groups.Count, rightKind);
        grade.FalsePairs.AddRange(falsePairs);
        grade.MissedPairs.AddRange(missed);
        return grade;
    }
}
