// contrib/bench/bench_fidelity_java.sh's workload: the JDK's own javac
// compiling a source tree again and again in one JVM, for SECONDS.
// Usage: java JavacLoop SECONDS PATCH_DIR OUT_DIR FILE_LIST
// PATCH_DIR is the java.base source tree the files belong to; prints
// "ready" before the first compilation and the number done at the end.
import java.io.OutputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import javax.tools.JavaCompiler;
import javax.tools.ToolProvider;

public class JavacLoop {
	public static void main(String[] a) throws Exception {
		long end = System.nanoTime() + Long.parseLong(a[0]) * 1_000_000_000L;
		List<String> args = new ArrayList<>(List.of(
		    "--patch-module", "java.base=" + a[1], "-d", a[2], "-nowarn",
		    "-proc:none", "-implicit:none", "-Xlint:none",
		    "-XDsuppressNotes"));
		args.addAll(Files.readAllLines(Path.of(a[3])));
		JavaCompiler javac = ToolProvider.getSystemJavaCompiler();
		String[] argv = args.toArray(new String[0]);
		int n = 0;

		System.out.println("ready");
		System.out.flush();
		while (System.nanoTime() < end) {
			javac.run(null, OutputStream.nullOutputStream(),
				  OutputStream.nullOutputStream(), argv);
			n++;
		}
		System.out.println("compilations " + n);
	}
}
