using PaperVec.Storage;

namespace PaperVec.Tests.Storage;

/// <summary>papervec.server: written whole and owner-only, read strictly, removed by the next holder of the lock.</summary>
public class ServerAddressFileTests
{
    [Fact]
    public void TheAddressIsOwnerOnlyReadStrictlyAndRemovedByTheNextLocalOpen()
    {
        string root = StoreTestData.TempDir();
        try
        {
            Assert.Null(ServerAddressFile.Read(root));
            ServerAddressFile.Write(root, new ServerAddress("http://127.0.0.1:5080", "secret"));
            Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite, File.GetUnixFileMode(ServerAddressFile.PathIn(root)));
            Assert.Equal(new ServerAddress("http://127.0.0.1:5080", "secret"), ServerAddressFile.Read(root));

            foreach (var damaged in new[] { "{\"version\":1,\"url\":\"http://127.0.0.1:5080\",\"key\":null,\"extra\":1}", "{\"version\":2,\"url\":\"http://127.0.0.1:5080\"}", "{\"version\":1,\"url\":\"file:///etc/passwd\"}", "{\"vers", new string(' ', 5000) })
            {
                File.WriteAllText(ServerAddressFile.PathIn(root), damaged);
                Assert.Throws<InvalidDataException>(() => ServerAddressFile.Read(root));
            }

            // A killed server's file: whoever takes the lock next knows no server runs, and removes it.
            ServerAddressFile.Write(root, new ServerAddress("http://127.0.0.1:5080", null));
            using (DataDirectory.Open(root)) Assert.False(File.Exists(ServerAddressFile.PathIn(root)));
        }
        finally { Directory.Delete(root, true); }
    }
}
