package dev.agenttasks.benchmarks;

import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Locale;

/** The per-round values of one measurement; reports the median and the spread. */
final class Samples {
    private final List<Double> values = new ArrayList<>();

    void add(double v) {
        values.add(v);
    }

    /** @return the value added last */
    double last() {
        return values.get(values.size() - 1);
    }

    /** @return the value added {@code i}-th (from 0) */
    double get(int i) {
        return values.get(i);
    }

    int size() {
        return values.size();
    }

    boolean isEmpty() {
        return values.isEmpty();
    }

    double median() {
        if (values.isEmpty()) {
            return Double.NaN;
        }
        List<Double> s = sorted();
        int n = s.size();
        return n % 2 == 1 ? s.get(n / 2) : (s.get(n / 2 - 1) + s.get(n / 2)) / 2;
    }

    double min() {
        return values.isEmpty() ? Double.NaN : sorted().get(0);
    }

    double max() {
        return values.isEmpty() ? Double.NaN : sorted().get(values.size() - 1);
    }

    /** @return (max - min) / median, the relative spread of the rounds */
    double spread() {
        double m = median();
        return m == 0 || Double.isNaN(m) ? Double.NaN : (max() - min()) / m;
    }

    private List<Double> sorted() {
        List<Double> s = new ArrayList<>(values);
        Collections.sort(s);
        return s;
    }

    /** @return the rounds as "a / b / c" with the given format */
    String rounds(String format) {
        StringBuilder b = new StringBuilder();
        for (double v : values) {
            if (b.length() > 0) {
                b.append(" / ");
            }
            b.append(String.format(Locale.ROOT, format, v));
        }
        return b.toString();
    }

    /** @return the value at the given percentile (0..100) of a sorted array, nearest-rank */
    static long percentile(long[] sorted, double p) {
        if (sorted.length == 0) {
            return 0;
        }
        int rank = (int) Math.ceil(p / 100.0 * sorted.length);
        return sorted[Math.max(0, Math.min(sorted.length - 1, rank - 1))];
    }
}
