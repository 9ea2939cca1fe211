-- Concurrency slot acquisition, atomic in Redis and timed by the Redis server clock.
-- KEYS[1]: sorted set of permit ids, each scored by its lease expiry in milliseconds since the Unix epoch.
-- ARGV[1]: maximum number of slots.
-- ARGV[2]: the new permit's id.
-- ARGV[3]: lease in milliseconds.
-- Returns 1 when the permit was added, 0 when every slot is taken.
local max = tonumber(ARGV[1])
local lease_ms = tonumber(ARGV[3])

local time = redis.call('TIME')
local now_ms = tonumber(time[1]) * 1000 + math.floor(tonumber(time[2]) / 1000)

-- Leases of holders that never released (a crashed process) expire here.
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', now_ms)

if redis.call('ZCARD', KEYS[1]) >= max then
  return 0
end

redis.call('ZADD', KEYS[1], now_ms + lease_ms, ARGV[2])

-- The set outlives its longest lease and no more, so an idle key disappears.
if redis.call('PTTL', KEYS[1]) < lease_ms then
  redis.call('PEXPIRE', KEYS[1], lease_ms)
end
return 1
