package dev.agenttasks;

import org.junit.jupiter.api.Test;

import java.io.IOException;
import java.io.InputStream;
import java.lang.module.ModuleDescriptor;
import java.lang.reflect.Constructor;
import java.lang.reflect.Executable;
import java.lang.reflect.Field;
import java.lang.reflect.Member;
import java.lang.reflect.Method;
import java.lang.reflect.Modifier;
import java.lang.reflect.Type;
import java.lang.reflect.TypeVariable;
import java.net.URISyntaxException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Comparator;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Set;
import java.util.TreeMap;
import java.util.stream.Collectors;
import java.util.stream.Stream;

import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assertions.fail;

/**
 * The public API and SPI of task-core, listed against a committed file, so that adding or removing a public
 * type or member of an exported package shows up in review as a change to {@value #EXPECTED}.
 *
 * <p>The listing covers every package {@code module-info} exports, every public (or protected) type in it
 * and every public or protected constructor, method and field those types declare. When the change is
 * intended, regenerate the file and commit it with the change:
 *
 * <pre>mvn -B -q -pl task-core test -Dtest=PublicApiTest -Dapi.update=true</pre>
 *
 * <p>Until a first version is released this is the API baseline; afterwards japicmp also compares the jar
 * with the released one ({@code mvn -P api-check verify}, see RELEASING.md).
 */
class PublicApiTest {
    static final String EXPECTED = "src/test/resources/api/task-core.txt";
    private static final String ACTUAL = "target/api/task-core.actual.txt";

    @Test
    void theExportedApiIsTheCommittedOne() throws Exception {
        List<String> actual = listing();
        Path expectedFile = Path.of(EXPECTED);
        if (Boolean.getBoolean("api.update")) {
            Files.createDirectories(expectedFile.getParent());
            Files.write(expectedFile, actual, StandardCharsets.UTF_8);
            return;
        }
        Path actualFile = Path.of(ACTUAL);
        Files.createDirectories(actualFile.getParent());
        Files.write(actualFile, actual, StandardCharsets.UTF_8);
        if (!Files.exists(expectedFile)) {
            fail("no API listing at " + expectedFile.toAbsolutePath() + "; create it with "
                    + "mvn -B -q -pl task-core test -Dtest=PublicApiTest -Dapi.update=true");
        }
        List<String> expected = Files.readAllLines(expectedFile, StandardCharsets.UTF_8);
        String diff = diff(expected, actual);
        if (!diff.isEmpty()) {
            fail("The public API of task-core differs from " + EXPECTED + " (- removed, + added):\n" + diff
                    + "\nThe full listing is in task-core/" + ACTUAL + ". If the change is intended, update the file"
                    + " (mvn -B -q -pl task-core test -Dtest=PublicApiTest -Dapi.update=true), review and commit it,"
                    + " and note the change in CHANGELOG.md.");
        }
    }

    @Test
    void theListingSeesTypesMembersAndOnlyExportedPackages() throws Exception {
        List<String> listing = listing();
        assertThat(listing).contains(
                "public interface dev.agenttasks.TaskManager extends java.lang.AutoCloseable",
                "  public java.util.concurrent.Flow$Publisher<dev.agenttasks.TaskEvent> events(java.lang.String, long)",
                "  public static final dev.agenttasks.TaskStatus PENDING");
        Set<String> packages = listing.stream()
                .filter(line -> !line.startsWith(" ") && !line.startsWith("#"))
                .map(line -> line.replaceFirst("^.*?(?:class|interface|enum|record) ([\\w.$]+).*$", "$1"))
                .map(type -> type.substring(0, type.lastIndexOf('.')))
                .collect(Collectors.toSet());
        assertThat(packages).containsExactlyInAnyOrder("dev.agenttasks", "dev.agenttasks.spi");
    }

    @Test
    void aChangeShowsAsRemovedAndAddedLinesUnderItsType() {
        List<String> before = List.of("public final class a.B", "  public void x()", "public interface a.C");
        List<String> after = List.of("public final class a.B", "  public void y()", "public interface a.C");
        assertThat(diff(before, after)).isEqualTo("""
                  public final class a.B
                -   public void x()
                +   public void y()
                """);
        assertThat(diff(before, before)).isEmpty();
    }

    /** The listing: a header, then each type's line followed by its members' lines, types sorted by name. */
    static List<String> listing() throws IOException, URISyntaxException, ClassNotFoundException {
        Path classes = Path.of(TaskManager.class.getProtectionDomain().getCodeSource().getLocation().toURI());
        ModuleDescriptor module;
        try (InputStream in = Files.newInputStream(classes.resolve("module-info.class"))) {
            module = ModuleDescriptor.read(in);
        }
        List<String> exported = module.exports().stream()
                .filter(e -> !e.isQualified())
                .map(ModuleDescriptor.Exports::source)
                .sorted()
                .toList();
        TreeMap<String, List<String>> types = new TreeMap<>();
        for (String pkg : exported) {
            Path dir = classes.resolve(pkg.replace('.', '/'));
            List<String> names;
            try (Stream<Path> files = Files.list(dir)) {
                names = files.map(p -> p.getFileName().toString())
                        .filter(n -> n.endsWith(".class") && !n.equals("package-info.class"))
                        .map(n -> pkg + "." + n.substring(0, n.length() - ".class".length()))
                        .toList();
            }
            for (String name : names) {
                Class<?> type = Class.forName(name, false, TaskManager.class.getClassLoader());
                if (isApi(type)) {
                    types.put(type.getName(), describe(type));
                }
            }
        }
        List<String> out = new ArrayList<>();
        out.add("# Public API of task-core (module " + module.name() + ", exports " + String.join(", ", exported) + ").");
        out.add("# Generated by PublicApiTest; regenerate with -Dapi.update=true (see that class) and review the diff.");
        types.values().forEach(out::addAll);
        return out;
    }

    private static boolean isApi(Class<?> type) {
        if (type.isAnonymousClass() || type.isLocalClass() || type.isSynthetic()) {
            return false;
        }
        for (Class<?> t = type; t != null; t = t.getDeclaringClass()) {
            int m = t.getModifiers();
            if (!Modifier.isPublic(m) && !(t.isMemberClass() && Modifier.isProtected(m))) {
                return false;
            }
        }
        return true;
    }

    private static List<String> describe(Class<?> type) {
        List<String> lines = new ArrayList<>();
        lines.add(typeLine(type));
        List<String> members = new ArrayList<>();
        for (Field f : type.getDeclaredFields()) {
            if (visible(f)) {
                members.add("  " + modifiers(f.getModifiers(), type) + f.getGenericType().getTypeName() + " " + f.getName());
            }
        }
        for (Constructor<?> c : type.getDeclaredConstructors()) {
            if (visible(c)) {
                members.add("  " + modifiers(c.getModifiers(), type) + typeParameters(c) + type.getSimpleName()
                        + parameters(c));
            }
        }
        for (Method m : type.getDeclaredMethods()) {
            if (visible(m) && !m.isBridge()) {
                String mods = modifiers(m.getModifiers(), type) + (m.isDefault() ? "default " : "");
                members.add("  " + mods + typeParameters(m) + m.getGenericReturnType().getTypeName() + " "
                        + m.getName() + parameters(m));
            }
        }
        members.sort(Comparator.naturalOrder());
        lines.addAll(members);
        return lines;
    }

    private static boolean visible(Member member) {
        int m = member.getModifiers();
        return !member.isSynthetic() && (Modifier.isPublic(m) || Modifier.isProtected(m));
    }

    private static String typeLine(Class<?> type) {
        int m = type.getModifiers();
        StringBuilder s = new StringBuilder(Modifier.isPublic(m) ? "public " : "protected ");
        if (type.isMemberClass() && Modifier.isStatic(m) && !type.isInterface() && !type.isEnum() && !type.isRecord()) {
            s.append("static ");
        }
        String kind;
        if (type.isAnnotation()) {
            kind = "@interface";
        } else if (type.isInterface()) {
            kind = "interface";
        } else if (type.isEnum()) {
            kind = "enum";
        } else if (type.isRecord()) {
            kind = "record";
        } else {
            kind = "class";
            if (Modifier.isAbstract(m)) {
                s.append("abstract ");
            }
            if (Modifier.isFinal(m)) {
                s.append("final ");
            }
        }
        if (type.isSealed()) {
            s.append("sealed ");
        }
        s.append(kind).append(' ').append(type.getName()).append(typeParameters(type.getTypeParameters()));
        Type superclass = type.getGenericSuperclass();
        if (superclass != null && superclass != Object.class && !type.isEnum() && !type.isRecord()) {
            s.append(" extends ").append(superclass.getTypeName());
        }
        Type[] interfaces = type.getGenericInterfaces();
        if (interfaces.length > 0 && !type.isAnnotation()) {
            s.append(type.isInterface() ? " extends " : " implements ")
                    .append(Arrays.stream(interfaces).map(Type::getTypeName).collect(Collectors.joining(", ")));
        }
        return s.toString();
    }

    private static String modifiers(int m, Class<?> owner) {
        StringBuilder s = new StringBuilder(Modifier.isPublic(m) ? "public " : "protected ");
        if (Modifier.isStatic(m)) {
            s.append("static ");
        }
        if (Modifier.isAbstract(m) && !owner.isInterface()) {
            s.append("abstract ");
        }
        if (Modifier.isFinal(m)) {
            s.append("final ");
        }
        return s.toString();
    }

    private static String typeParameters(Executable e) {
        String s = typeParameters(e.getTypeParameters());
        return s.isEmpty() ? "" : s.substring(1) + " ";
    }

    private static String typeParameters(TypeVariable<?>[] variables) {
        if (variables.length == 0) {
            return "";
        }
        return Arrays.stream(variables).map(v -> {
            List<String> bounds = Arrays.stream(v.getBounds()).filter(b -> b != Object.class)
                    .map(Type::getTypeName).toList();
            return bounds.isEmpty() ? v.getName() : v.getName() + " extends " + String.join(" & ", bounds);
        }).collect(Collectors.joining(", ", " <", ">"));
    }

    private static String parameters(Executable e) {
        Type[] types = e.getGenericParameterTypes();
        List<String> names = new ArrayList<>();
        for (int i = 0; i < types.length; i++) {
            String name = types[i].getTypeName();
            if (e.isVarArgs() && i == types.length - 1 && name.endsWith("[]")) {
                name = name.substring(0, name.length() - 2) + "...";
            }
            names.add(name);
        }
        String s = "(" + String.join(", ", names) + ")";
        Type[] thrown = e.getGenericExceptionTypes();
        if (thrown.length > 0) {
            s += " throws " + Arrays.stream(thrown).map(Type::getTypeName).sorted().collect(Collectors.joining(", "));
        }
        return s;
    }

    /**
     * The lines only in {@code expected} ("- ") and only in {@code actual} ("+ "), each under the line of
     * the type it belongs to, in listing order; empty when both list the same API.
     */
    static String diff(List<String> expected, List<String> actual) {
        Set<String> before = keys(expected);
        Set<String> after = keys(actual);
        StringBuilder out = new StringBuilder();
        String lastType = null;
        Set<String> all = new LinkedHashSet<>(before);
        all.addAll(after);
        List<String> ordered = all.stream().sorted().toList();
        for (String key : ordered) {
            boolean removed = !after.contains(key);
            boolean added = !before.contains(key);
            if (!removed && !added) {
                continue;
            }
            int sep = key.indexOf('\u0000');
            String type = sep < 0 ? key : key.substring(0, sep);
            String line = sep < 0 ? key : key.substring(sep + 1);
            if (sep >= 0 && !type.equals(lastType) && before.contains(type) && after.contains(type)) {
                out.append("  ").append(type).append('\n');
            }
            lastType = type;
            out.append(removed ? "- " : "+ ").append(line).append('\n');
        }
        return out.toString();
    }

    /** Each type line, and each member line prefixed with its type's line, so equal members of two types differ. */
    private static Set<String> keys(List<String> listing) {
        Set<String> keys = new LinkedHashSet<>();
        String type = null;
        for (String line : listing) {
            if (line.isBlank() || line.startsWith("#")) {
                continue;
            }
            if (line.startsWith("  ")) {
                keys.add(type + '\u0000' + line);
            } else {
                type = line;
                keys.add(line);
            }
        }
        return keys;
    }
}
