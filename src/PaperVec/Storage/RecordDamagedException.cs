namespace PaperVec.Storage;

/// <summary>A stored record whose checksum fails (its bytes or its key changed on disk): it is never served; the message names it and its file.</summary>
public sealed class RecordDamagedException(string message) : DataDirectoryDamagedException(message);
