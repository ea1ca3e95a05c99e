package dev.agenttasks.examples;

import org.eclipse.jetty.io.Content;
import org.eclipse.jetty.server.Request;
import org.eclipse.jetty.server.Response;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;

/**
 * One HTTP exchange on Jetty's core API, seen the way the host's blocking handlers need it: the request
 * line and headers, the body as a stream, and a response written once (a whole body) or streamed (SSE).
 */
final class Exchange {

    private final Request request;
    private final Response response;
    private OutputStream out;
    private int status = -1;
    private boolean bodyRead;

    Exchange(Request request, Response response) {
        this.request = request;
        this.response = response;
    }

    Request request() {
        return request;
    }

    String method() {
        return request.getMethod();
    }

    /** @return the path as sent, still percent-encoded */
    String rawPath() {
        return request.getHttpURI().getPath();
    }

    /** @return the query as sent, or {@code null} */
    String rawQuery() {
        return request.getHttpURI().getQuery();
    }

    String header(String name) {
        return request.getHeaders().get(name);
    }

    void setHeader(String name, String value) {
        response.getHeaders().put(name, value);
    }

    void addHeader(String name, String value) {
        response.getHeaders().add(name, value);
    }

    InputStream body() {
        bodyRead = true;
        return Content.Source.asInputStream(request);
    }

    /**
     * @return true if the request declares a body ({@code Content-Length} over 0, or a
     *         {@code Transfer-Encoding}) that no handler has started to read: a response sent now leaves it
     *         on the connection, which then can not be reused
     */
    boolean hasUnreadBody() {
        if (bodyRead) {
            return false;
        }
        String length = header("Content-Length");
        return header("Transfer-Encoding") != null || (length != null && !length.trim().equals("0"));
    }

    /** @return the status sent, or -1 while the response has not started */
    int responseCode() {
        return status;
    }

    /** Sends a whole response. */
    void send(int code, String contentType, byte[] bytes, boolean withBody) throws IOException {
        if (contentType != null) {
            setHeader("Content-Type", contentType);
        }
        setHeader("Content-Length", Integer.toString(bytes.length));
        OutputStream o = start(code);
        if (withBody) {
            o.write(bytes);
        }
        o.close();
    }

    /** Starts a streamed response (no length): the caller writes and flushes, then {@link #finish()} ends it. */
    OutputStream start(int code) {
        if (out != null) {
            throw new IllegalStateException("response already started");
        }
        status = code;
        response.setStatus(code);
        out = Content.Sink.asOutputStream(response);
        return out;
    }

    /** Ends the response; an exchange nothing was written to ends with an empty 204. */
    void finish() throws IOException {
        if (out == null) {
            send(204, null, new byte[0], false);
            return;
        }
        out.close();
    }
}
