-- Fallback routing: when more than one endpoint was tried for a request, its usage row lists every attempt
-- (model, provider, status, latency; metadata only) as a JSON array. NULL when the first attempt served or failed
-- alone: the row itself is that attempt.
ALTER TABLE generations ADD COLUMN provider_responses TEXT;
