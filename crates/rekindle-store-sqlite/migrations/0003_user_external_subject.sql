-- Users who sign in through an external identity provider are found by the
-- provider's subject claim.
ALTER TABLE users ADD COLUMN external_subject TEXT;
CREATE UNIQUE INDEX users_external_subject ON users (external_subject);

