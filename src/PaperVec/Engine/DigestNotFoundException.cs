using PaperVec.Storage;

namespace PaperVec.Engine;

/// <summary>No digest has this id (HTTP 404); the message lists the stored ids and a "did you mean" (<see cref="NotFoundHints.Digest"/>).</summary>
public sealed class DigestNotFoundException(string id, IReadOnlyCollection<DigestRecord> stored) : KeyNotFoundException(NotFoundHints.Digest(id, stored))
{
    public string Id { get; } = id;
}
