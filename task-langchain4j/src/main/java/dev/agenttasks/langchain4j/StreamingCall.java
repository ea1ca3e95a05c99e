package dev.agenttasks.langchain4j;

import dev.langchain4j.model.chat.response.ChatResponse;
import dev.langchain4j.model.chat.response.PartialResponse;
import dev.langchain4j.model.chat.response.PartialResponseContext;
import dev.langchain4j.model.chat.response.PartialThinking;
import dev.langchain4j.model.chat.response.PartialThinkingContext;
import dev.langchain4j.model.chat.response.PartialToolCall;
import dev.langchain4j.model.chat.response.PartialToolCallContext;
import dev.langchain4j.model.chat.response.StreamingChatResponseHandler;
import dev.langchain4j.model.chat.response.StreamingHandle;

import java.util.concurrent.CompletableFuture;
import java.util.function.Consumer;

/**
 * One streaming model call: forwards tokens, completes a future, and can be cancelled from another
 * thread. LangChain4j hands out the handle that closes the HTTP stream only inside a callback, so the
 * first callback keeps it; a cancel that comes before any callback is applied by the first one.
 */
final class StreamingCall implements StreamingChatResponseHandler {

    final CompletableFuture<ChatResponse> result = new CompletableFuture<>();
    private final Consumer<String> tokens;
    private volatile StreamingHandle handle;
    private volatile boolean cancelled;

    StreamingCall(Consumer<String> tokens) {
        this.tokens = tokens;
    }

    /** Closes the stream (now, or at the first callback if none came yet) and ends the call. */
    void cancel() {
        cancelled = true;
        StreamingHandle h = handle;
        if (h != null) {
            h.cancel();
        }
        result.cancel(false);
    }

    /** @return true if the stream should stop: it was cancelled */
    private boolean keep(StreamingHandle h) {
        if (h != null && handle == null) {
            handle = h;
        }
        if (cancelled) {
            if (h != null && !h.isCancelled()) {
                h.cancel();
            }
            return true;
        }
        return false;
    }

    @Override
    public void onPartialResponse(PartialResponse partial, PartialResponseContext context) {
        if (keep(context == null ? null : context.streamingHandle())) {
            return;
        }
        String text = partial == null ? null : partial.text();
        if (text != null && !text.isEmpty()) {
            tokens.accept(text);
        }
    }

    @Override
    public void onPartialThinking(PartialThinking partial, PartialThinkingContext context) {
        keep(context == null ? null : context.streamingHandle());
    }

    @Override
    public void onPartialToolCall(PartialToolCall partial, PartialToolCallContext context) {
        keep(context == null ? null : context.streamingHandle());
    }

    @Override
    public void onCompleteResponse(ChatResponse response) {
        result.complete(response);
    }

    @Override
    public void onError(Throwable error) {
        result.completeExceptionally(error);
    }
}
