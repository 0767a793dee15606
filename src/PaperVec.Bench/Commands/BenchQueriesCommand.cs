using System.CommandLine;
using System.Diagnostics;
using PaperVec.Api.Embedding;
using PaperVec.Api.Hosting;
using PaperVec.Ingest;
using PaperVec.Cli.Common;

namespace PaperVec.Bench.Commands;

/// <summary>
/// `papervec bench queries`: what the server's query batching buys. The same short queries (the
/// sample digests' titles) are embedded one at a time, then by N concurrent clients each calling the
/// embedder directly, then by N concurrent clients through the server's <see cref="QueryEmbeddingBatcher"/>.
/// Embedding only: HTTP and the index search are left out, they are the same in all three.
/// </summary>
static class BenchQueriesCommand
{
    public static Command Create()
    {
        var clients = CommonOptions.AtLeast(new Option<int>("--clients") { Description = "Concurrent clients", DefaultValueFactory = _ => 32 }, 1);
        var queries = CommonOptions.AtLeast(new Option<int>("--queries") { Description = "Queries per run", DefaultValueFactory = _ => 512 }, 1);
        var maxBatch = CommonOptions.AtLeast(new Option<int>("--query-batch") { Description = "Largest batch", DefaultValueFactory = _ => new ServerOptions().MaxQueryBatch }, 1);
        var command = new Command("queries", "Search-query embedding throughput: batched concurrent requests vs one at a time") { clients, queries, maxBatch };
        command.SetAction(parse =>
        {
            int clientCount = parse.GetValue(clients), count = parse.GetValue(queries);
            var titles = Directory.GetFiles(BenchCommands.DefaultDigestFolder(), "*.txt").Order()
                .SelectMany(f => DigestParser.Parse(File.ReadAllText(f)).Papers.Select(p => p.Title)).ToList();
            var texts = Enumerable.Range(0, count).Select(i => titles[i % titles.Count]).ToList();
            using var embedder = Embedding.Embedder.Load();
            Console.WriteLine($"bench queries: {count} short queries (sample digest titles), {clientCount} clients, {Environment.ProcessorCount} cores, model {embedder.ModelId}");
            embedder.Embed(texts.Take(16).ToList()); // warm-up

            double serial = Time(() => { foreach (var t in texts) embedder.Embed(t); });
            double unbatched = Time(() => Clients(clientCount, texts, t => { embedder.Embed(t); return Task.CompletedTask; }));
            var sizes = new List<int>();
            double batched;
            using (var batcher = new QueryEmbeddingBatcher(embedder, parse.GetValue(maxBatch), new ServerOptions().QueryBatchWindow, (size, _) => { lock (sizes) sizes.Add(size); }))
                batched = Time(() => Clients(clientCount, texts, batcher.EmbedAsync));

            Console.WriteLine($"  one at a time                {count / serial,8:0.0} queries/s  ({serial:0.00}s)");
            Console.WriteLine($"  {clientCount} clients, unbatched      {count / unbatched,8:0.0} queries/s  ({unbatched:0.00}s)");
            Console.WriteLine($"  {clientCount} clients, batched        {count / batched,8:0.0} queries/s  ({batched:0.00}s; {sizes.Count} batches, mean {sizes.Average():0.0} queries)");
            Console.WriteLine($"  batched vs one at a time     {serial / batched:0.00}x");
            Console.WriteLine($"  batched vs unbatched clients {unbatched / batched:0.00}x");
            return 0;
        });
        return command;
    }

    static double Time(Action run)
    {
        var clock = Stopwatch.StartNew();
        run();
        return clock.Elapsed.TotalSeconds;
    }

    /// <summary>N clients, each taking the next query and waiting for its answer before the next one.</summary>
    static void Clients(int clients, List<string> texts, Func<string, Task> embed)
    {
        int next = -1;
        Task.WaitAll(Enumerable.Range(0, clients).Select(_ => Task.Run(async () =>
        {
            int i;
            while ((i = Interlocked.Increment(ref next)) < texts.Count) await embed(texts[i]);
        })).ToArray());
    }
}
