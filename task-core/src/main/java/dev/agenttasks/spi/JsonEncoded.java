package dev.agenttasks.spi;

/**
 * Implemented by the data maps of events the engine creates: their JSON encoding, computed once on the
 * emitting thread. A store that keeps JSON text may write {@link #json()} instead of encoding the map
 * again on its (single) writer thread. Using it is optional; the map's content is the truth.
 */
public interface JsonEncoded {

    /** @return the compact JSON text of this value */
    String json();
}
