-- GCRA rate limit check, atomic in Redis and timed by the Redis server clock.
-- KEYS[1]: the key's theoretical arrival time (TAT), in microseconds since the Unix epoch.
-- ARGV[1]: emission interval in microseconds (period / limit).
-- ARGV[2]: period in microseconds.
-- ARGV[3]: key expiry in milliseconds (the period, rounded up).
-- Returns {1, remaining} when the event is counted, {0, retry_after_us} when it is limited.
local interval = tonumber(ARGV[1])
local period = tonumber(ARGV[2])
local expiry_ms = tonumber(ARGV[3])

local time = redis.call('TIME')
local now = tonumber(time[1]) * 1000000 + tonumber(time[2])

-- A TAT in the past means a full budget, the same as no key.
local tat = now
local stored = redis.call('GET', KEYS[1])
if stored then
  tat = math.max(tonumber(stored), now)
end

local new_tat = tat + interval
local allow_at = new_tat - period
if allow_at > now then
  return {0, allow_at - now}
end

-- '%.0f' writes the whole number of microseconds as plain digits.
redis.call('SET', KEYS[1], string.format('%.0f', new_tat), 'PX', expiry_ms)
return {1, math.floor((period - (new_tat - now)) / interval)}
