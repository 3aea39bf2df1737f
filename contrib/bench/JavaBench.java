// CPU-bound Java work for contrib/bench/java_bench.sh: prints, once a
// second, "ops N CPU_NS": the work units done in that second and the CPU
// time the working thread used for them (throughput per CPU second is
// what a profiler's overhead takes away, even on a busy shared host).
// Usage: java JavaBench SECONDS
public class JavaBench {
	static volatile long sink;

	static long unit(long seed) {
		long x = seed;
		for (int i = 0; i < 20_000; i++)
			x = x * 6364136223846793005L + 1442695040888963407L + (x >>> 29);
		return x;
	}

	static long deep(int depth, long seed) {
		return depth == 0 ? unit(seed) : deep(depth - 1, seed + depth);
	}

	public static void main(String[] args) {
		long seconds = args.length > 0 ? Long.parseLong(args[0]) : 60;
		long end = System.nanoTime() + seconds * 1_000_000_000L;
		long next = System.nanoTime() + 1_000_000_000L, ops = 0;
		java.lang.management.ThreadMXBean mx =
		    java.lang.management.ManagementFactory.getThreadMXBean();
		long cpu = mx.getCurrentThreadCpuTime();

		System.out.println("ready");
		System.out.flush();
		while (System.nanoTime() < end) {
			sink += deep(ops % 32 == 0 ? 40 : 8, ops);
			ops++;
			long now = System.nanoTime();
			if (now >= next) {
				long c = mx.getCurrentThreadCpuTime();
				System.out.println("ops " + ops + " " + (c - cpu));
				cpu = c;
				System.out.flush();
				ops = 0;
				next += 1_000_000_000L;
			}
		}
	}
}
