-- Cache writes are priced on their own (Anthropic bills them above the prompt price), so a usage row keeps their
-- count next to the cache reads; and which API the request came through (chat, messages, completions, embeddings).
ALTER TABLE generations ADD COLUMN cache_write_tokens INT NOT NULL DEFAULT 0;
ALTER TABLE generations ADD COLUMN api TEXT NOT NULL DEFAULT 'chat';
