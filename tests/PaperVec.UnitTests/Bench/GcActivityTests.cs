using PaperVec.Bench.Harness;

namespace PaperVec.Tests.Bench;

public class GcActivityTests
{
    [Fact]
    public void CountsEachGenerationOnceThoughOlderCollectionsAlsoCountAsYounger()
    {
        // The GC's counters: a gen2 collection also counts as gen1 and gen0, a gen1 as gen0.
        var start = new GcActivity.Snapshot(10, 4, 1, TimeSpan.FromMilliseconds(100), 1_000_000);
        var end = new GcActivity.Snapshot(17, 6, 2, TimeSpan.FromMilliseconds(130.04), 51_000_000);
        var gc = GcActivity.Between(start, end);
        Assert.Equal(new GcActivity(Gen0: 5, Gen1: 1, Gen2: 1, PauseMs: 30.0, AllocatedMB: 50.0), gc);
        Assert.Equal("5 gen0, 1 gen1, 1 gen2 collections, 30 ms paused, 50 MB allocated", gc.ToString());
    }

    [Fact]
    public void StealIsAShareOfTheWallTimeOfAllCpus()
    {
        // 2 CPUs for 5 s = 1,000 ticks of CPU time at USER_HZ 100; 150 stolen = 15%.
        long second = System.Diagnostics.Stopwatch.Frequency;
        var start = new CpuSteal.Snapshot(StealTicks: 7000, Timestamp: 10 * second);
        var end = new CpuSteal.Snapshot(StealTicks: 7150, Timestamp: 15 * second);
        Assert.Equal(new CpuSteal(15), CpuSteal.Between(start, end, processors: 2));
        Assert.Equal("15% stolen by the hypervisor", CpuSteal.Between(start, end, 2)!.ToString());
        Assert.Null(CpuSteal.Between(null, end, 2));
        if (OperatingSystem.IsLinux()) Assert.NotNull(CpuSteal.Take());
    }
}
