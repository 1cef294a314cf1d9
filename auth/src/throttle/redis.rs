//! Counters in Redis (when sessions are there): one hash per key with
//! the window's attempts (`a`) and those in flight (`f`), expiring with
//! its window, changed only by scripts, so each step is atomic on every
//! topology (one key per script: a cluster serves each from its slot).

use fred::{clients::Client, interfaces::LuaInterface};

use super::{Release, Slot, table::Counted};

/// Counts one attempt: `HINCRBY` both fields, the window set on a hash
/// that has none, in one step; the counts and the window's end
/// (milliseconds, Redis' clock).
const RESERVE: &str = "local a = redis.call('HINCRBY', KEYS[1], 'a', 1) \
     local f = redis.call('HINCRBY', KEYS[1], 'f', 1) \
     local ttl = redis.call('PTTL', KEYS[1]) \
     if ttl < 0 then redis.call('PEXPIRE', KEYS[1], ARGV[1]) ttl = tonumber(ARGV[1]) end \
     local t = redis.call('TIME') \
     return {a, f, t[1] * 1000 + math.floor(t[2] / 1000) + ttl}";

/// Gives an attempt its verdict in the window it was taken from (its end
/// within half a second of ARGV[1]; the next window ends at least a
/// second later): ARGV[2] is `clear`, `failed` or `give_back`. Never
/// creates a hash, never counts below zero.
const RELEASE: &str = "local ttl = redis.call('PTTL', KEYS[1]) \
     if ttl < 0 then return 0 end \
     local t = redis.call('TIME') \
     local finish = t[1] * 1000 + math.floor(t[2] / 1000) + ttl \
     if math.abs(finish - tonumber(ARGV[1])) > 500 then return 0 end \
     if ARGV[2] == 'clear' then return redis.call('DEL', KEYS[1]) end \
     if tonumber(redis.call('HGET', KEYS[1], 'f') or '0') > 0 then \
       redis.call('HINCRBY', KEYS[1], 'f', -1) end \
     if ARGV[2] == 'give_back' and tonumber(redis.call('HGET', KEYS[1], 'a') or '0') > 0 then \
       redis.call('HINCRBY', KEYS[1], 'a', -1) end \
     return 1";

/// The Redis key of `slot` under `prefix` (`h:`: a hash, never the plain
/// counters an older version kept under the bare key).
fn key(prefix: &str, slot: &Slot) -> String {
    format!("{prefix}h:{}", slot.key)
}

/// Counts one attempt on `slot`.
pub(super) async fn count(
    client: &Client,
    prefix: &str,
    slot: &Slot,
) -> Result<Counted, fred::error::Error> {
    let (attempts, in_flight, window): (u64, u64, i64) = client
        .eval(RESERVE, key(prefix, slot), slot.length.max(1))
        .await?;
    Ok(Counted {
        attempts,
        in_flight,
        window,
    })
}

/// Gives `slot`'s attempt its verdict.
pub(super) async fn release(
    client: &Client,
    prefix: &str,
    slot: &Slot,
    release: Release,
) -> Result<(), fred::error::Error> {
    let verdict = match release {
        Release::Clear => "clear",
        Release::Failed => "failed",
        Release::GiveBack => "give_back",
    };
    let _: i64 = client
        .eval(
            RELEASE,
            key(prefix, slot),
            vec![slot.window.to_string(), verdict.to_owned()],
        )
        .await?;
    Ok(())
}
