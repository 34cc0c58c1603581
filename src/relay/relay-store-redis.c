/* relay-store-redis.c
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 *
 * The store for several relay instances: every mailbox is one Redis hash,
 * `{m:ID}`, and every operation on it is one Lua script run on its slot, so
 * that its conditions and its write are atomic exactly as one SQLite
 * transaction makes relay-store-sqlite.c's apply_* functions: the first
 * claim binds (two instances racing to bind run one script after the other
 * on the slot's primary, and the second sees the first's claim), versions,
 * retried Mailbox-Request-IDs, recipients, relinquish and delete. The
 * scripts below follow those functions branch by branch.
 *
 * Expiry: each hash has PEXPIREAT at its expiration, and every script
 * checks the expiration against the relay's clock too, so nothing expired
 * is served even in the moment before Redis removes it. A deleted mailbox
 * is a tombstone (claims and request ids only) until its expiration, as in
 * SQLite.
 *
 * Durability: a write is answered once the script ran on the primary
 * (which, with appendfsync always, has it in its AOF on disk before it
 * replies) and WAIT saw at least one replica acknowledge it. If no replica
 * did within WAIT_TIMEOUT_MS, the answer is RELAY_STATUS_FAILED (503, try
 * again): the write is on the primary's disk but a failover now could lose
 * it (PROTOCOL.md §6.10).
 *
 * A create retried on another instance: the instance that gets the retry
 * makes a new mailbox id, in another slot, so the retry cannot be found by
 * the mailbox's key. A reservation `{q:HASH(claim, request id)}` names the
 * mailbox the request made; it is set before the create and looked up by a
 * retry. See create_with_request_id().
 *
 * Limits are keyed by creator (`{c:KEY}`) and for everyone (`{g}`): other
 * slots than the mailbox's, so they cannot be in its script. Each scope
 * keeps the live mailboxes it counted (a sorted set by expiration, and
 * their sizes), and a create first reserves its place there (a script that
 * checks and counts atomically), then creates, and gives the place back if
 * the create did not happen. Deletes give it back; expired ones are dropped
 * from the count by the next script that looks. The counts never let two
 * instances race past a limit. They are an upper bound: a relay that dies
 * between the reservation and the create, or a create whose answer was
 * lost, keeps its place until that mailbox's expiration.
 *
 * Creates go in batches (apply_creates()): each step of all of them at
 * once, pipelined, then one WAIT per primary, so that a batch costs one
 * round trip (two with request ids) and one append-only file sync per
 * primary each, where each create alone cost four of each.
 */

#define G_LOG_DOMAIN "relay-store-redis"

#include "config.h"

#include <string.h>

#include "httpd-log.h"
#include "relay-redis-cluster.h"
#include "relay-redis-subscriber.h"
#include "relay-store-redis.h"

#define TIMEOUT_MS             2000
/* How long a replica may take to acknowledge a write. Well under the
 * socket timeout, so that WAIT answers before the connection gives up. */
#define WAIT_TIMEOUT_MS        500
#define WAIT_REPLICAS          1
/* What one operation (or one batch of creates) may spend on the store,
 * from its submission, before it is answered 503: its commands' own limits
 * would add up when every primary hangs. A last command begun in time adds
 * at most two timeouts (a node asked for the slot map, or a connection,
 * and the command). Clean-ups asked later run after the answers
 * (RELAY_REDIS_COMMAND_CLEANUP). */
#define OP_BUDGET_MS           (3 * TIMEOUT_MS)
/* A create whose reservation was taken over is refused for this long. */
#define ABANDON_MS             600000
#define MAX_FIELDS             64
#define MAX_VALUE_BYTES        (16 * 1024 * 1024)
#define LOG_INTERVAL_SECONDS   60
/* How often the health probe asks every primary (RelayStoreStats.health). */
#define PROBE_INTERVAL_USEC    G_USEC_PER_SEC
#define PROBE_GAP_USEC         (G_USEC_PER_SEC / 5)
#define PROBE_REFRESH_ROUNDS   10
#define GLOBAL_KEY             "{g}"
/* Creates go in batches of at most MAX_BATCH, on N_CREATORS threads. */
#define MAX_BATCH              64
#define N_CREATORS             4

/* The primary's clock in ms, which read leases are counted in. */
#define SCRIPT_NOW_MS \
  "local function now_ms()\n" \
  "  local t = redis.call('TIME')\n" \
  "  return tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)\n" \
  "end\n"

/* Shared by the mailbox scripts: KEYS[1] the mailbox, KEYS[2] its
 * abandoned mark, KEYS[3] its read leases; ARGV[1] now (Unix seconds),
 * ARGV[2] the claim, ARGV[3] the request id ("" for none), ARGV[4] this
 * instance's lease name. Absent fields are nil: a NULL column is a field
 * that is not there. Answers are strings: status, bytes and mailboxes the
 * operation added (negative: freed), the creator whose count they change,
 * how many milliseconds other instances' read leases still last (the
 * write's answer waits for them), then the hash as HGETALL gives it. */
static const char script_common[] =
  SCRIPT_NOW_MS
  "local now = tonumber(ARGV[1])\n"
  "local claim = ARGV[2]\n"
  "local rqid = ARGV[3]\n"
  "local me = ARGV[4]\n"
  "local m = nil\n"
  "local function load()\n"
  "  local raw = redis.call('HGETALL', KEYS[1])\n"
  "  if #raw == 0 then return false end\n"
  "  m = {}\n"
  "  for i = 1, #raw, 2 do m[raw[i]] = raw[i + 1] end\n"
  "  return true\n"
  "end\n"
  "local function live() return m.del ~= '1' and tonumber(m.ex) > now end\n"
  "local function has(list, c)\n"
  "  if list == nil then return false end\n"
  "  for w in string.gmatch(list, '%S+') do if w == c then return true end end\n"
  "  return false\n"
  "end\n"
  "local function count(list)\n"
  "  local n = 0\n"
  "  if list ~= nil then for _ in string.gmatch(list, '%S+') do n = n + 1 end end\n"
  "  return n\n"
  "end\n"
  "local function side()\n"
  "  if claim == m.ic then return 'I' end\n"
  "  if claim == m.rc or has(m.more, claim) then\n"
  "    if has(m.done, claim) then return 'D' end\n"
  "    return 'R'\n"
  "  end\n"
  "  return 'N'\n"
  "end\n"
  "local function can(bit) return math.floor(tonumber(m.acc) / bit) % 2 == 1 end\n"
  "local function full()\n"
  "  return (m.rc and 1 or 0) + count(m.more) >= math.max(tonumber(m.mr or '1'), 1)\n"
  "end\n"
  "local function size()\n"
  "  local n = 0\n"
  "  for _, f in ipairs({'pt', 'pd', 'ti', 'de', 'im', 'it', 'rt'}) do\n"
  "    if m[f] then n = n + #m[f] end\n"
  "  end\n"
  "  return n\n"
  "end\n"
  "local function lease_wait()\n"
  "  local raw = redis.call('HGETALL', KEYS[3])\n"
  "  if #raw == 0 then return 0 end\n"
  "  local ms = now_ms()\n"
  "  local w = 0\n"
  "  for i = 1, #raw, 2 do\n"
  "    if raw[i] ~= me then w = math.max(w, tonumber(raw[i + 1]) - ms) end\n"
  "  end\n"
  "  return w\n"
  "end\n"
  "local function answer(status, dbytes, dmail, creator)\n"
  "  local wait = 0\n"
  "  if status == 'OK' or status == 'DUP' then wait = lease_wait() end\n"
  "  local out = {status, tostring(dbytes or 0), tostring(dmail or 0), creator or '', tostring(wait)}\n"
  "  local raw = redis.call('HGETALL', KEYS[1])\n"
  "  for i = 1, #raw do out[#out + 1] = raw[i] end\n"
  "  return out\n"
  "end\n"
  "local function set_or_clear(field, value)\n"
  "  if value == nil or value == '' then redis.call('HDEL', KEYS[1], field)\n"
  "  else redis.call('HSET', KEYS[1], field, value) end\n"
  "end\n"
  "local function bump() redis.call('HINCRBY', KEYS[1], 'v', 1) end\n"
  "local function dup(s)\n"
  "  local last = m.rrq\n"
  "  if s == 'I' then last = m.irq end\n"
  "  return rqid ~= '' and rqid == last\n"
  "end\n";

/* ARGV[5] the expiration in ms, ARGV[6…] its fields and values. A hash
 * that exists already is this create's own, from an attempt whose answer
 * was lost (the id is new). The answer has no hash: it is what the relay
 * sent (a copy back would double the bytes and the script's time), and no
 * other instance can hold a read lease on an id nobody was given yet. */
static const char script_create[] =
  "if redis.call('EXISTS', KEYS[2]) == 1 then return {'ABANDONED', '0', '0', '', '0'} end\n"
  "if redis.call('EXISTS', KEYS[1]) == 0 then\n"
  "  redis.call('HSET', KEYS[1], unpack(ARGV, 6))\n"
  "  redis.call('PEXPIREAT', KEYS[1], ARGV[5])\n"
  "end\n"
  "return {'OK', '0', '0', '', '0'}\n";

/* Whether the mailbox a reservation names is what a retried create is
 * answered with (SQLite's STMT_SELECT_RETRY). If it was never created, its
 * create may still be on its way: mark it abandoned, so that it can never
 * be created after this retry makes another (ARGV[5]: the mark's life). */
static const char script_retry[] =
  "if load() then\n"
  "  if live() and m.ic == claim and m.irq == rqid then return answer('DUP') end\n"
  "  return {'STALE', '0', '0', '', '0'}\n"
  "end\n"
  "redis.call('SET', KEYS[2], '1', 'PX', ARGV[5])\n"
  "return {'GONE', '0', '0', '', '0'}\n";

/* apply_read(). */
static const char script_read[] =
  "if not load() or not live() then return answer('NF') end\n"
  "local s = side()\n"
  "if s == 'I' then return answer('OK') end\n"
  "if s == 'R' then if can(1) then return answer('OK') end return answer('FORBID') end\n"
  "if s == 'D' then return answer('NF') end\n"
  "if full() then return answer('UNAUTH') end\n"
  "if not can(1) then return answer('FORBID') end\n"
  "if m.rc == nil then redis.call('HSET', KEYS[1], 'rc', claim)\n"
  "elseif m.more == nil then redis.call('HSET', KEYS[1], 'more', claim)\n"
  "else redis.call('HSET', KEYS[1], 'more', m.more .. ' ' .. claim) end\n"
  "bump()\n"
  "return answer('OK')\n";

/* apply_update(). ARGV[5] If-Match (-1: none), ARGV[6] "1" with a payload,
 * ARGV[7] and [8] its type and data, ARGV[9] the token, ARGV[10] "1" with a
 * token, ARGV[11] the bytes reserved for growing. Growing more than that
 * changes nothing and answers GROW with the growth, to reserve it first. */
static const char script_update[] =
  "if not load() or not live() then return answer('NF') end\n"
  "local s = side()\n"
  "if s == 'N' then return answer('UNAUTH') end\n"
  "if s == 'D' then return answer('NF') end\n"
  "if s == 'R' and not can(2) then return answer('FORBID') end\n"
  "if dup(s) then return answer('DUP') end\n"
  "if ARGV[6] ~= '1' then return answer('INVALID') end\n"
  "local want = tonumber(ARGV[5])\n"
  "if want >= 0 and want ~= tonumber(m.v) then return answer('CONFLICT') end\n"
  "local old = tonumber(m.sz or '0')\n"
  "local tf = 'rt'\n"
  "if s == 'I' then tf = 'it' end\n"
  "m.pt = ARGV[7]\n"
  "m.pd = ARGV[8]\n"
  "if ARGV[10] == '1' then m[tf] = ARGV[9] end\n"
  "local new = size()\n"
  "if new - old > tonumber(ARGV[11]) then return answer('GROW', new - old, 0, m.cre) end\n"
  "redis.call('HSET', KEYS[1], 'pt', m.pt, 'pd', m.pd, 'sz', new)\n"
  "if ARGV[10] == '1' then redis.call('HSET', KEYS[1], tf, ARGV[9]) end\n"
  "if s == 'I' then set_or_clear('irq', rqid) else set_or_clear('rrq', rqid) end\n"
  "bump()\n"
  "return answer('OK', new - old, 0, m.cre)\n";

/* apply_delete(). */
static const char script_delete[] =
  "if not load() or tonumber(m.ex) <= now then return answer('NF') end\n"
  "local s = side()\n"
  "if s == 'N' then if m.del == '1' then return answer('NF') end return answer('UNAUTH') end\n"
  "if s == 'D' then if dup('R') then return answer('DUP') end return answer('NF') end\n"
  "if m.del == '1' then if dup(s) then return answer('DUP') end return answer('NF') end\n"
  "if s == 'R' and not can(4) then return answer('FORBID') end\n"
  "local mr = tonumber(m.mr or '1')\n"
  "if s == 'R' and mr > 1 and count(m.done) + 1 < mr then\n"
  "  if m.done == nil then redis.call('HSET', KEYS[1], 'done', claim)\n"
  "  else redis.call('HSET', KEYS[1], 'done', m.done .. ' ' .. claim) end\n"
  "  set_or_clear('rrq', rqid)\n"
  "  bump()\n"
  "  return answer('OK')\n"
  "end\n"
  "local sz = tonumber(m.sz or '0')\n"
  "local cre = m.cre\n"
  "redis.call('HDEL', KEYS[1], 'pt', 'pd', 'ti', 'de', 'im', 'it', 'rt', 'cre')\n"
  "redis.call('HSET', KEYS[1], 'del', '1', 'sz', '0')\n"
  "if s == 'I' then set_or_clear('irq', rqid) else set_or_clear('rrq', rqid) end\n"
  "bump()\n"
  "return answer('OK', -sz, -1, cre)\n";

/* apply_relinquish(). */
static const char script_relinquish[] =
  "if not load() or not live() then return answer('NF') end\n"
  "if rqid ~= '' and claim == m.rel and rqid == m.rrq then return answer('DUP') end\n"
  "if side() ~= 'R' then return answer('UNAUTH') end\n"
  "if claim ~= m.rc then\n"
  "  local rest = {}\n"
  "  for w in string.gmatch(m.more, '%S+') do if w ~= claim then rest[#rest + 1] = w end end\n"
  "  set_or_clear('more', table.concat(rest, ' '))\n"
  "  redis.call('HSET', KEYS[1], 'rel', claim)\n"
  "else\n"
  "  redis.call('HSET', KEYS[1], 'rel', m.rc)\n"
  "  redis.call('HDEL', KEYS[1], 'rc', 'rt')\n"
  "end\n"
  "set_or_clear('rrq', rqid)\n"
  "bump()\n"
  "return answer('OK')\n";

/* A lookup that takes a read lease: KEYS[1] the mailbox, KEYS[2] its
 * leases (instance name → until, in ms of the primary's clock); ARGV[1]
 * this instance's name, ARGV[2] the lease in ms. Answers the hash as
 * HGETALL gives it; a mailbox that is not there gets no lease. */
static const char script_lease[] =
  SCRIPT_NOW_MS
  "local raw = redis.call('HGETALL', KEYS[1])\n"
  "if #raw > 0 then\n"
  "  redis.call('HSET', KEYS[2], ARGV[1], now_ms() + tonumber(ARGV[2]))\n"
  "  redis.call('PEXPIRE', KEYS[2], 2 * tonumber(ARGV[2]))\n"
  "end\n"
  "return raw\n";

/* A create's reservation, KEYS[1] = {q:…}: ARGV[1] the new mailbox's id,
 * ARGV[2] its expiration in ms, ARGV[3] the id it may replace ("": none).
 * Answers "" once reserved (also when run again: it may be retried), or
 * the id another attempt reserved. */
static const char script_reserve[] =
  "local cur = redis.call('GET', KEYS[1])\n"
  "if cur == ARGV[1] then return '' end\n"
  "if cur and cur ~= ARGV[3] then return cur end\n"
  "redis.call('SET', KEYS[1], ARGV[1], 'PXAT', ARGV[2])\n"
  "return ''\n";

/* Drops the reservation if it is still @ARGV[1]'s. */
static const char script_unreserve[] =
  "if redis.call('GET', KEYS[1]) == ARGV[1] then redis.call('DEL', KEYS[1]) end\n"
  "return ''\n";

/* A creator's count keys go once its last counted mailbox has expired
 * (@until_ms, its expiration, the latest so far): only ever later, and
 * after the keys exist (a key made after this would never go). One
 * without an expiration (made before it had one) gets the later of
 * @until_ms and its sorted set's. */
#define SCRIPT_EXPIRE_SCOPE \
  "local function expire_scope(until_ms)\n" \
  "  for i = 1, 3 do\n" \
  "    if redis.call('PTTL', KEYS[i]) < 0 then\n" \
  "      redis.call('PEXPIREAT', KEYS[i], math.max(until_ms, redis.call('PEXPIRETIME', KEYS[2])))\n" \
  "    else redis.call('PEXPIREAT', KEYS[i], until_ms, 'GT') end\n" \
  "  end\n" \
  "end\n"

/* A scope's count as it stands at ARGV[1] (now): its mailboxes expired by
 * then forgotten (gone, at most 1,000 a call), then its totals (n, b). */
#define SCRIPT_SCOPE_TOTALS \
  "local now = tonumber(ARGV[1])\n" \
  "local gone = redis.call('ZRANGEBYSCORE', KEYS[2], '-inf', now, 'LIMIT', 0, 1000)\n" \
  "for _, id in ipairs(gone) do\n" \
  "  local sz = tonumber(redis.call('HGET', KEYS[3], id) or '0')\n" \
  "  redis.call('HINCRBY', KEYS[1], 'b', -sz)\n" \
  "  redis.call('HINCRBY', KEYS[1], 'n', -1)\n" \
  "  redis.call('HDEL', KEYS[3], id)\n" \
  "  redis.call('ZREM', KEYS[2], id)\n" \
  "end\n" \
  "local n = tonumber(redis.call('HGET', KEYS[1], 'n') or '0')\n" \
  "local b = tonumber(redis.call('HGET', KEYS[1], 'b') or '0')\n"

/* One scope's count (a creator's, or everyone's): KEYS[1] the totals
 * (n, b), KEYS[2] the counted mailboxes by expiration, KEYS[3] their sizes.
 * ARGV: now, the mailbox id ("": only forget what expired), the change in
 * mailboxes (1 counts it, -1 gives its place back, 0 changes its bytes),
 * the change in bytes, its expiration, the bounds (0: none), "1" if the
 * scope's keys may go once its last mailbox expired (a creator's: Redis
 * then forgets the creator; everyone's stays, so that the sweep counts what
 * expired). Growing is
 * refused beyond a bound; every change is idempotent by mailbox id.
 * Answers {admitted, mailboxes, bytes, forgotten}. */
static const char script_limits[] =
  SCRIPT_EXPIRE_SCOPE
  SCRIPT_SCOPE_TOTALS
  "local id = ARGV[2]\n"
  "local dn = tonumber(ARGV[3])\n"
  "local db = tonumber(ARGV[4])\n"
  "local maxn = tonumber(ARGV[6])\n"
  "local maxb = tonumber(ARGV[7])\n"
  "if id == '' then return {1, n, b, #gone} end\n"
  "if (dn > 0 or db > 0) and ((maxn > 0 and n + dn > maxn) or (maxb > 0 and b + db > maxb)) then\n"
  "  if dn <= 0 or redis.call('ZSCORE', KEYS[2], id) == false then return {0, n, b, #gone} end\n"
  "end\n"
  "if dn == 1 then\n"
  "  if redis.call('ZADD', KEYS[2], 'NX', ARGV[5], id) == 0 then return {1, n, b, #gone} end\n"
  "  redis.call('HSET', KEYS[3], id, db)\n"
  "  redis.call('HINCRBY', KEYS[1], 'n', dn)\n"
  "  redis.call('HINCRBY', KEYS[1], 'b', db)\n"
  "  if ARGV[8] == '1' then expire_scope(tonumber(ARGV[5]) * 1000) end\n"
  "  return {1, n + dn, b + db, #gone}\n"
  "elseif dn == -1 then\n"
  "  local sz = redis.call('HGET', KEYS[3], id)\n"
  "  if not sz then return {1, n, b, #gone} end\n"
  "  db = -tonumber(sz)\n"
  "  redis.call('HDEL', KEYS[3], id)\n"
  "  redis.call('ZREM', KEYS[2], id)\n"
  "else\n"
  "  if not redis.call('HGET', KEYS[3], id) then return {1, n, b, #gone} end\n"
  "  redis.call('HINCRBY', KEYS[3], id, db)\n"
  "end\n"
  "redis.call('HINCRBY', KEYS[1], 'n', dn)\n"
  "redis.call('HINCRBY', KEYS[1], 'b', db)\n"
  "return {1, n + dn, b + db, #gone}\n";

/* The counting steps of a batch of creates in one scope, in one call:
 * what script_limits would do for each (a change of +1 mailbox), one after
 * the other, without its per-call cost. KEYS as script_limits; ARGV: now,
 * the bounds (0: none), "1" if the scope's keys may expire, then three per
 * mailbox: its id, its bytes, its expiration (s). Answers {mailboxes,
 * bytes, forgotten, admitted…} with one admitted (1 or 0) per mailbox. */
static const char script_count_many[] =
  SCRIPT_EXPIRE_SCOPE
  SCRIPT_SCOPE_TOTALS
  "local n0, b0 = n, b\n"
  "local maxn = tonumber(ARGV[2])\n"
  "local maxb = tonumber(ARGV[3])\n"
  "local latest = 0\n"
  "local out = {0, 0, #gone}\n"
  "for i = 5, #ARGV, 3 do\n"
  "  local id = ARGV[i]\n"
  "  local db = tonumber(ARGV[i + 1])\n"
  "  local admitted = 1\n"
  "  if (maxn > 0 and n + 1 > maxn) or (maxb > 0 and b + db > maxb) then\n"
  "    if redis.call('ZSCORE', KEYS[2], id) == false then admitted = 0 end\n"
  "  elseif redis.call('ZADD', KEYS[2], 'NX', ARGV[i + 2], id) == 1 then\n"
  "    redis.call('HSET', KEYS[3], id, db)\n"
  "    n = n + 1\n"
  "    b = b + db\n"
  "    latest = math.max(latest, tonumber(ARGV[i + 2]))\n"
  "  end\n"
  "  out[#out + 1] = admitted\n"
  "end\n"
  "if n ~= n0 then\n"
  "  redis.call('HINCRBY', KEYS[1], 'n', n - n0)\n"
  "  redis.call('HINCRBY', KEYS[1], 'b', b - b0)\n"
  "  if ARGV[4] == '1' then expire_scope(latest * 1000) end\n"
  "end\n"
  "out[1] = n\n"
  "out[2] = b\n"
  "return out\n";

typedef enum
{
  SCRIPT_CREATE,
  SCRIPT_RETRY,
  SCRIPT_READ,
  SCRIPT_UPDATE,
  SCRIPT_DELETE,
  SCRIPT_RELINQUISH,
  SCRIPT_RESERVE,
  SCRIPT_UNRESERVE,
  SCRIPT_LIMITS,
  SCRIPT_COUNT_MANY,
  SCRIPT_LEASE,
  N_SCRIPTS
} Script;

typedef struct
{
  char *text;
  char *sha;
} ScriptText;

static ScriptText scripts[N_SCRIPTS];

static void
scripts_init (void)
{
  static gsize once = 0;

  if (g_once_init_enter (&once))
    {
      const char *bodies[N_SCRIPTS] = {
        script_create, script_retry, script_read, script_update, script_delete, script_relinquish,
        script_reserve, script_unreserve, script_limits, script_count_many, script_lease,
      };

      for (guint i = 0; i < N_SCRIPTS; i++)
        {
          /* SCRIPT_CREATE needs none of it, and would run it for every create. */
          gboolean common = i <= SCRIPT_RELINQUISH && i != SCRIPT_CREATE;

          scripts[i].text = g_strconcat (common ? script_common : "", bodies[i], NULL);
          scripts[i].sha = g_compute_checksum_for_string (G_CHECKSUM_SHA1, scripts[i].text, -1);
        }
      g_once_init_leave (&once, 1);
    }
}

struct _RelayStoreRedis
{
  GObject            parent_instance;

  GStrv              nodes;
  RelayStoreLimits   limits;
  /* Names this instance's read leases (script_lease): random, per start */
  char              *instance;
  guint              lease_ms;

  GAsyncQueue       *queue;
  GThread          **workers;
  guint              n_workers;
  /* Creates, in batches (creates_thread()) */
  GAsyncQueue       *create_queue;
  GThread           *creators[N_CREATORS];
  GMutex             lock;
  GCond              idle;
  guint              outstanding;
  gboolean           stopping;
  HttpdLogLimit      failure_log;
  RelayStoreState    state;
  /* Expired mailboxes this instance dropped from everyone's count, by any
   * script (a create, a metrics request, the sweep), until the sweep
   * reports them: each expired mailbox is dropped once in the cluster. */
  gint64             forgotten;

  /* Lookups, counts and the purge come from the HTTP and main threads. */
  GMutex             lookup_lock;
  RelayRedisCluster *lookup_client;

  /* News of other instances' writes, while watched. */
  RelayRedisSubscriber *subscriber;
  guint64            lookup_redirects;
  guint64            lookup_reconnects;

  /* Health, kept by a probe thread so that /healthz never waits on the
   * network; a real operation that finds the cluster unreachable wakes it. */
  RelayStoreStats    stats;
  GThread           *prober;
  GCond              probe_cond;
  gboolean           probe_now;
};

static void relay_store_iface_init (RelayStoreInterface *iface);

G_DEFINE_FINAL_TYPE_WITH_CODE (RelayStoreRedis, relay_store_redis, G_TYPE_OBJECT,
                               G_IMPLEMENT_INTERFACE (RELAY_TYPE_STORE, relay_store_iface_init))

/* The stop signal for a worker; never an op. */
static int stop_marker;

/* Replies */

static gboolean
is_string (const redisReply *reply)
{
  return reply != NULL && reply->type == REDIS_REPLY_STRING && reply->str != NULL &&
         reply->len <= MAX_VALUE_BYTES && strlen (reply->str) == reply->len;
}

static gboolean
protocol_error (GError     **error,
                const char  *what)
{
  g_set_error (error, RELAY_REDIS_ERROR, RELAY_REDIS_ERROR_PROTOCOL, "Redis gave a malformed %s", what);
  return FALSE;
}

static gboolean
parse_int (const char *text,
           gint64      min,
           gint64      max,
           gint64     *out)
{
  return g_ascii_string_to_signed (text, 10, min, max, out, NULL);
}

static gboolean
parse_claims (const char *text,
              GStrv      *out)
{
  g_auto(GStrv) claims = g_strsplit (text, " ", -1);

  /* At most ten recipients; claims are UUIDs. */
  if (g_strv_length (claims) > 10)
    return FALSE;
  for (guint i = 0; claims[i] != NULL; i++)
    if (!g_uuid_string_is_valid (claims[i]))
      return FALSE;
  g_strfreev (*out);
  *out = claims[0] != NULL ? g_steal_pointer (&claims) : NULL;
  return TRUE;
}

static gboolean
parse_creator (const char *text,
               HttpdKey   *key)
{
  if (strlen (text) != 2 * sizeof key->bytes)
    return FALSE;
  for (guint i = 0; i < sizeof key->bytes; i++)
    {
      int hi = g_ascii_xdigit_value (text[2 * i]);
      int lo = g_ascii_xdigit_value (text[2 * i + 1]);

      if (hi < 0 || lo < 0)
        return FALSE;
      key->bytes[i] = (guint8) (hi << 4 | lo);
    }
  return TRUE;
}

static char *
format_creator (const HttpdKey *key)
{
  GString *text = g_string_sized_new (2 * sizeof key->bytes);

  for (guint i = 0; i < sizeof key->bytes; i++)
    g_string_append_printf (text, "%02x", key->bytes[i]);
  return g_string_free (text, FALSE);
}

/* A mailbox from a hash's fields and values, as HGETALL and the scripts
 * give them. Returns NULL without an error when there are none. */
static RelayMailbox *
mailbox_from_fields (redisReply **element,
                     size_t       n,
                     GError     **error)
{
  g_autoptr(RelayMailbox) m = NULL;
  gboolean have_version = FALSE, have_expires = FALSE, have_access = FALSE;

  if (n == 0)
    return NULL;
  if (n % 2 != 0 || n > 2 * MAX_FIELDS)
    return protocol_error (error, "mailbox"), NULL;

  m = relay_mailbox_new ();
  for (size_t i = 0; i < n; i += 2)
    {
      const char *field, *value;
      gint64 number;

      if (!is_string (element[i]) || !is_string (element[i + 1]))
        return protocol_error (error, "mailbox field"), NULL;
      field = element[i]->str;
      value = element[i + 1]->str;

#define TEXT(name, member) \
      else if (g_str_equal (field, name)) \
        { g_free (m->member); m->member = g_strdup (value); }
#define NUMBER(name, member, lo, hi) \
      else if (g_str_equal (field, name)) \
        { if (!parse_int (value, lo, hi, &number)) return protocol_error (error, name), NULL; m->member = number; }

      if (FALSE)
        ;
      TEXT ("id", id)
      TEXT ("ic", initiator_claim)
      TEXT ("rc", recipient_claim)
      TEXT ("pt", payload_type)
      TEXT ("pd", payload_data)
      TEXT ("ti", title)
      TEXT ("de", description)
      TEXT ("im", image_url)
      TEXT ("it", initiator_token)
      TEXT ("rt", recipient_token)
      TEXT ("irq", initiator_request_id)
      TEXT ("rrq", recipient_request_id)
      TEXT ("rel", relinquished_claim)
      NUMBER ("cr", created, 0, G_MAXINT64)
      NUMBER ("sz", size, 0, G_MAXINT64)
      else if (g_str_equal (field, "v"))
        {
          if (!parse_int (value, 0, G_MAXINT64, &number))
            return protocol_error (error, "version"), NULL;
          m->version = number;
          have_version = TRUE;
        }
      else if (g_str_equal (field, "ex"))
        {
          if (!parse_int (value, 0, G_MAXINT64 / 1000, &number))
            return protocol_error (error, "expiration"), NULL;
          m->expires = number;
          have_expires = TRUE;
        }
      else if (g_str_equal (field, "acc"))
        {
          if (!parse_int (value, 0, 7, &number))
            return protocol_error (error, "access"), NULL;
          m->access = (RelayAccess) number;
          have_access = TRUE;
        }
      else if (g_str_equal (field, "del"))
        {
          if (!parse_int (value, 0, 1, &number))
            return protocol_error (error, "deletion mark"), NULL;
          m->deleted = number != 0;
        }
      else if (g_str_equal (field, "mr"))
        {
          if (!parse_int (value, 1, 10, &number))
            return protocol_error (error, "maxRecipients"), NULL;
          m->max_recipients = (guint) number;
        }
      else if (g_str_equal (field, "more"))
        {
          if (!parse_claims (value, &m->more_recipients))
            return protocol_error (error, "recipient list"), NULL;
        }
      else if (g_str_equal (field, "done"))
        {
          if (!parse_claims (value, &m->done_recipients))
            return protocol_error (error, "recipient list"), NULL;
        }
      else if (g_str_equal (field, "cre"))
        {
          if (!parse_creator (value, &m->creator))
            return protocol_error (error, "creator"), NULL;
          m->has_creator = TRUE;
        }
      /* Fields a later version adds are ignored. */
#undef TEXT
#undef NUMBER
    }

  if (m->id == NULL || m->initiator_claim == NULL || !have_version || !have_expires || !have_access)
    return protocol_error (error, "mailbox (a field is missing)"), NULL;
  return g_steal_pointer (&m);
}

typedef struct
{
  char          status[12];
  gint64        bytes;       /* added by the operation; negative: freed */
  gint64        mailboxes;
  char         *creator;     /* hex; NULL if none */
  gint64        lease_ms;    /* how long other instances' read leases last */
  RelayMailbox *mailbox;     /* the hash after the script; NULL if none */
} Answer;

static void
answer_clear (Answer *answer)
{
  g_clear_pointer (&answer->creator, g_free);
  g_clear_pointer (&answer->mailbox, relay_mailbox_unref);
}

G_DEFINE_AUTO_CLEANUP_CLEAR_FUNC (Answer, answer_clear)

static gboolean
parse_answer (const redisReply  *reply,
              Answer            *answer,
              GError           **error)
{
  if (reply->type != REDIS_REPLY_ARRAY || reply->elements < 5 || reply->elements > 5 + 2 * MAX_FIELDS)
    return protocol_error (error, "script answer");
  for (guint i = 0; i < 5; i++)
    if (!is_string (reply->element[i]))
      return protocol_error (error, "script answer");
  /* A lease that seems to last longer than any lease is the primary's
   * clock that jumped back: a lease is waited for at most its length. */
  if (reply->element[0]->len >= sizeof answer->status ||
      !parse_int (reply->element[1]->str, G_MININT64 / 2, G_MAXINT64 / 2, &answer->bytes) ||
      !parse_int (reply->element[2]->str, -1, 1, &answer->mailboxes) ||
      !parse_int (reply->element[4]->str, G_MININT64 / 2, G_MAXINT64 / 2, &answer->lease_ms))
    return protocol_error (error, "script answer");
  answer->lease_ms = CLAMP (answer->lease_ms, 0, RELAY_STORE_MAX_LEASE_MS);
  g_strlcpy (answer->status, reply->element[0]->str, sizeof answer->status);
  if (reply->element[3]->len > 0)
    {
      HttpdKey key;

      if (!parse_creator (reply->element[3]->str, &key))
        return protocol_error (error, "creator");
      answer->creator = g_strdup (reply->element[3]->str);
    }
  answer->mailbox = mailbox_from_fields (reply->element + 5, reply->elements - 5, error);
  return answer->mailbox != NULL || reply->elements == 5;
}

/* Scripts */

/* Runs a script on @keys[0]'s slot: EVALSHA, or EVAL if the node does not
 * have it yet (a new node, a restart, SCRIPT FLUSH). */
static redisReply *
eval (RelayRedisCluster  *client,
      Script              script,
      RelayRedisCommandFlags flags,
      guint               n_keys,
      const char * const *keys,
      guint               n_args,
      const char * const *args,
      GError            **error)
{
  g_autofree const char **argv = g_new0 (const char *, 3 + n_keys + n_args);
  g_autofree size_t *argvlen = g_new0 (size_t, 3 + n_keys + n_args);
  g_autofree char *count = g_strdup_printf ("%u", n_keys);
  redisReply *reply;
  int argc = 0;

  scripts_init ();
  argv[argc++] = "EVALSHA";
  argv[argc++] = scripts[script].sha;
  argv[argc++] = count;
  for (guint i = 0; i < n_keys; i++)
    argv[argc++] = keys[i];
  for (guint i = 0; i < n_args; i++)
    argv[argc++] = args[i];
  for (int i = 0; i < argc; i++)
    argvlen[i] = strlen (argv[i]);

  reply = relay_redis_cluster_command (client, keys[0], flags, argc, argv, argvlen, error);
  if (reply != NULL && reply->type == REDIS_REPLY_ERROR && reply->str != NULL &&
      g_str_has_prefix (reply->str, "NOSCRIPT"))
    {
      freeReplyObject (reply);
      argv[0] = "EVAL";
      argv[1] = scripts[script].text;
      argvlen[0] = strlen (argv[0]);
      argvlen[1] = strlen (argv[1]);
      reply = relay_redis_cluster_command (client, keys[0], flags, argc, argv, argvlen, error);
    }

  if (reply != NULL && reply->type == REDIS_REPLY_ERROR)
    {
      g_set_error (error, RELAY_REDIS_ERROR, RELAY_REDIS_ERROR_REPLY, "Redis: %s",
                   reply->str != NULL ? reply->str : "an error");
      g_clear_pointer (&reply, freeReplyObject);
    }
  return reply;
}

/* A script with its keys and arguments, for eval() or for a batch
 * (calls_run()), and what it gave. */
typedef struct
{
  Script                 script;
  RelayRedisCommandFlags flags;
  GPtrArray             *keys;       /* keys[0] names the slot */
  GPtrArray             *args;
  redisReply            *reply;
  GError                *error;
  gboolean               replicated; /* WAIT after it saw a replica */
} Call;

static void
call_init (Call                   *call,
           Script                  script,
           RelayRedisCommandFlags  flags)
{
  call->script = script;
  call->flags = flags;
  call->keys = g_ptr_array_new_with_free_func (g_free);
  call->args = g_ptr_array_new_with_free_func (g_free);
}

static void
call_clear (Call *call)
{
  g_clear_pointer (&call->keys, g_ptr_array_unref);
  g_clear_pointer (&call->args, g_ptr_array_unref);
  g_clear_pointer (&call->reply, freeReplyObject);
  g_clear_error (&call->error);
  call->replicated = FALSE;
}

G_DEFINE_AUTO_CLEANUP_CLEAR_FUNC (Call, call_clear)

static redisReply *
call_eval (RelayRedisCluster  *client,
           const Call         *call,
           GError            **error)
{
  return eval (client, call->script, call->flags, call->keys->len, (const char * const *) call->keys->pdata,
               call->args->len, (const char * const *) call->args->pdata, error);
}

/* Runs @n_calls calls at once, pipelined (relay_redis_cluster_run_batch()),
 * each ending with a reply that is not an error reply, or an error; with
 * @wait, a WAIT follows each on its connection (Call.replicated). One that
 * a node does not know yet runs again alone, as eval() runs it. */
static void
calls_run (RelayRedisCluster *client,
           Call              *calls,
           guint              n_calls,
           gboolean           wait)
{
  g_autofree RelayRedisBatchCommand *commands = NULL;
  g_autoptr(GPtrArray) argvs = NULL;
  g_autoptr(GPtrArray) counts = NULL;

  if (n_calls == 0)
    return;
  commands = g_new0 (RelayRedisBatchCommand, n_calls);
  argvs = g_ptr_array_new_with_free_func (g_free);
  counts = g_ptr_array_new_with_free_func (g_free);
  scripts_init ();
  for (guint i = 0; i < n_calls; i++)
    {
      Call *call = &calls[i];
      guint argc = 3 + call->keys->len + call->args->len;
      const char **argv = g_new (const char *, argc);
      size_t *argvlen = g_new (size_t, argc);
      char *count = g_strdup_printf ("%u", call->keys->len);
      guint k = 0;

      argv[k++] = "EVALSHA";
      argv[k++] = scripts[call->script].sha;
      argv[k++] = count;
      for (guint j = 0; j < call->keys->len; j++)
        argv[k++] = call->keys->pdata[j];
      for (guint j = 0; j < call->args->len; j++)
        argv[k++] = call->args->pdata[j];
      for (guint j = 0; j < argc; j++)
        argvlen[j] = strlen (argv[j]);
      g_ptr_array_add (argvs, argv);
      g_ptr_array_add (argvs, argvlen);
      g_ptr_array_add (counts, count);
      commands[i] = (RelayRedisBatchCommand) { .key = call->keys->pdata[0], .flags = call->flags,
                                               .argc = (int) argc, .argv = argv, .argvlen = argvlen };
    }

  relay_redis_cluster_run_batch (client, commands, n_calls, wait ? WAIT_REPLICAS : 0, WAIT_TIMEOUT_MS);

  for (guint i = 0; i < n_calls; i++)
    {
      Call *call = &calls[i];
      redisReply *reply = g_steal_pointer (&commands[i].reply);

      g_clear_pointer (&call->reply, freeReplyObject);
      g_clear_error (&call->error);
      call->replicated = commands[i].replicated;
      if (reply != NULL && reply->type == REDIS_REPLY_ERROR && reply->str != NULL &&
          g_str_has_prefix (reply->str, "NOSCRIPT"))
        {
          freeReplyObject (reply);
          g_clear_error (&commands[i].error);
          call->reply = call_eval (client, call, &call->error);
          if (call->reply != NULL && wait)
            call->replicated = relay_redis_cluster_wait (client, call->keys->pdata[0], WAIT_REPLICAS,
                                                         WAIT_TIMEOUT_MS, &call->error);
          continue;
        }
      call->error = g_steal_pointer (&commands[i].error);
      if (reply != NULL && reply->type == REDIS_REPLY_ERROR)
        {
          g_clear_error (&call->error);
          g_set_error (&call->error, RELAY_REDIS_ERROR, RELAY_REDIS_ERROR_REPLY, "Redis: %s",
                       reply->str != NULL ? reply->str : "an error");
          g_clear_pointer (&reply, freeReplyObject);
        }
      call->reply = reply;
    }
}

static char *
mailbox_key (const char *id)
{
  return g_strdup_printf ("{m:%s}", id);
}

static char *
abandon_key (const char *id)
{
  return g_strdup_printf ("{m:%s}:x", id);
}

static char *
lease_key (const char *id)
{
  return g_strdup_printf ("{m:%s}:l", id);
}

/* Sets @call to one of the mailbox scripts. @instance: this instance's
 * lease name, whose own leases its writes do not wait for. */
static void
mailbox_call (Call               *call,
              const char         *instance,
              Script              script,
              const char         *id,
              gint64              now,
              const char         *claim,
              const char         *request_id,
              guint               n_more,
              const char * const *more)
{
  /* Creates (of a new id), retry checks and bindings may run twice;
   * updates, deletes and relinquishments may not (a version raised twice,
   * a 404 for the delete that succeeded). */
  call_init (call, script,
             script == SCRIPT_CREATE || script == SCRIPT_RETRY || script == SCRIPT_READ
               ? RELAY_REDIS_COMMAND_IDEMPOTENT : RELAY_REDIS_COMMAND_NONE);
  g_ptr_array_add (call->keys, mailbox_key (id));
  g_ptr_array_add (call->keys, abandon_key (id));
  g_ptr_array_add (call->keys, lease_key (id));
  g_ptr_array_add (call->args, g_strdup_printf ("%" G_GINT64_FORMAT, now));
  g_ptr_array_add (call->args, g_strdup (claim != NULL ? claim : ""));
  g_ptr_array_add (call->args, g_strdup (request_id != NULL ? request_id : ""));
  g_ptr_array_add (call->args, g_strdup (instance));
  for (guint i = 0; i < n_more; i++)
    g_ptr_array_add (call->args, g_strdup (more[i]));
}

/* Runs one of the mailbox scripts and parses its answer. */
static gboolean
mailbox_script (RelayRedisCluster  *client,
                const char         *instance,
                Script              script,
                const char         *id,
                gint64              now,
                const char         *claim,
                const char         *request_id,
                guint               n_more,
                const char * const *more,
                Answer             *answer,
                GError            **error)
{
  g_auto(Call) call = { 0 };
  g_autoptr(redisReply) reply = NULL;

  mailbox_call (&call, instance, script, id, now, claim, request_id, n_more, more);
  reply = call_eval (client, &call, error);
  return reply != NULL && parse_answer (reply, answer, error);
}

typedef struct
{
  gboolean admitted;
  gint64   mailboxes;
  gint64   bytes;
  gint64   forgotten;
} Usage;

/* A count call's keys for one scope (script_limits, script_count_many):
 * its totals, its mailboxes by expiration, their sizes. @creator: hex, or
 * NULL for everyone's. */
static void
scope_keys (Call       *call,
            const char *creator)
{
  char *base = creator != NULL ? g_strdup_printf ("{c:%s}", creator) : g_strdup (GLOBAL_KEY);

  g_ptr_array_add (call->keys, base);
  g_ptr_array_add (call->keys, g_strconcat (base, ":e", NULL));
  g_ptr_array_add (call->keys, g_strconcat (base, ":s", NULL));
}

/* A scope's bounds (0: none), then whether its keys may expire (a
 * creator's), as both count scripts take them. */
static void
scope_bounds (RelayStoreRedis *self,
              Call            *call,
              const char      *creator)
{
  g_ptr_array_add (call->args, g_strdup_printf ("%" G_GUINT64_FORMAT,
                                                creator != NULL ? self->limits.max_mailboxes_per_creator
                                                                : self->limits.max_mailboxes));
  g_ptr_array_add (call->args, g_strdup_printf ("%" G_GUINT64_FORMAT,
                                                creator != NULL ? self->limits.max_bytes_per_creator
                                                                : self->limits.max_bytes));
  g_ptr_array_add (call->args, g_strdup (creator != NULL ? "1" : "0"));
}

/* Sets @call to one step of a scope's count (script_limits). @creator:
 * hex, or NULL for everyone's. */
static void
count_call (RelayStoreRedis *self,
            Call            *call,
            const char      *creator,
            gint64           now,
            const char      *id,
            int              mailboxes,
            gint64           bytes,
            gint64           expires)
{
  /* Counting or uncounting a mailbox is idempotent by its id; a change
   * of its bytes is not. */
  call_init (call, SCRIPT_LIMITS,
             mailboxes != 0 || id == NULL ? RELAY_REDIS_COMMAND_IDEMPOTENT : RELAY_REDIS_COMMAND_NONE);
  scope_keys (call, creator);
  g_ptr_array_add (call->args, g_strdup_printf ("%" G_GINT64_FORMAT, now));
  g_ptr_array_add (call->args, g_strdup (id != NULL ? id : ""));
  g_ptr_array_add (call->args, g_strdup_printf ("%d", mailboxes));
  g_ptr_array_add (call->args, g_strdup_printf ("%" G_GINT64_FORMAT, bytes));
  g_ptr_array_add (call->args, g_strdup_printf ("%" G_GINT64_FORMAT, expires));
  scope_bounds (self, call, creator);
}

/* A count step's answer; everyone's is kept for the state. */
static gboolean
count_parse (RelayStoreRedis   *self,
             const redisReply  *reply,
             gboolean           everyone,
             Usage             *usage,
             GError           **error)
{
  if (reply->type != REDIS_REPLY_ARRAY || reply->elements != 4)
    return protocol_error (error, "count");
  for (guint i = 0; i < 4; i++)
    if (reply->element[i]->type != REDIS_REPLY_INTEGER)
      return protocol_error (error, "count");

  usage->admitted = reply->element[0]->integer == 1;
  usage->mailboxes = reply->element[1]->integer;
  usage->bytes = reply->element[2]->integer;
  usage->forgotten = reply->element[3]->integer;

  if (everyone)
    {
      g_mutex_lock (&self->lock);
      self->state.mailboxes = usage->mailboxes;
      self->state.bytes = usage->bytes;
      self->forgotten += usage->forgotten;
      g_mutex_unlock (&self->lock);
    }
  return TRUE;
}

/* One step of a scope's count. */
static gboolean
count_step (RelayStoreRedis    *self,
            RelayRedisCluster  *client,
            const char         *creator,
            gint64              now,
            const char         *id,
            int                 mailboxes,
            gint64              bytes,
            gint64              expires,
            Usage              *usage,
            GError            **error)
{
  g_auto(Call) call = { 0 };
  g_autoptr(redisReply) reply = NULL;

  count_call (self, &call, creator, now, id, mailboxes, bytes, expires);
  reply = call_eval (client, &call, error);
  return reply != NULL && count_parse (self, reply, creator == NULL, usage, error);
}

/* Logs a clean-up's failure; one kept until after the answer is not one. */
static void
cleanup_failed (const char   *what,
                const GError *error)
{
  if (!g_error_matches (error, RELAY_REDIS_ERROR, RELAY_REDIS_ERROR_DEFERRED))
    g_debug ("Could not %s: %s", what, error->message);
}

/* Gives back a place in one scope's count (@creator, or NULL for
 * everyone's). Failures are only logged: the count then errs high until the
 * mailbox's expiration. Past the op's deadline, after its answer. */
static void
give_back (RelayStoreRedis   *self,
           RelayRedisCluster *client,
           const char        *creator,
           gint64             now,
           const char        *id,
           int                mailboxes,
           gint64             bytes)
{
  g_auto(Call) call = { 0 };
  g_autoptr(redisReply) reply = NULL;
  g_autoptr(GError) error = NULL;
  Usage usage;

  count_call (self, &call, creator, now, id, mailboxes, bytes, 0);
  call.flags |= RELAY_REDIS_COMMAND_CLEANUP;
  reply = call_eval (client, &call, &error);
  if (reply == NULL || !count_parse (self, reply, creator == NULL, &usage, &error))
    cleanup_failed ("give back a counted place", error);
}

/* Gives back what count_step() took, for both scopes (give_back()). */
static void
count_release (RelayStoreRedis   *self,
               RelayRedisCluster *client,
               const char        *creator,
               gint64             now,
               const char        *id,
               int                mailboxes,
               gint64             bytes)
{
  give_back (self, client, NULL, now, id, mailboxes, bytes);
  if (creator != NULL)
    give_back (self, client, creator, now, id, mailboxes, bytes);
}

static RelayStatus
status_from_answer (const Answer *answer)
{
  static const struct { const char *name; RelayStatus status; } table[] = {
    { "OK", RELAY_STATUS_OK },
    { "DUP", RELAY_STATUS_DUPLICATE },
    { "NF", RELAY_STATUS_NOT_FOUND },
    { "UNAUTH", RELAY_STATUS_UNAUTHORIZED },
    { "FORBID", RELAY_STATUS_FORBIDDEN },
    { "CONFLICT", RELAY_STATUS_CONFLICT },
    { "INVALID", RELAY_STATUS_INVALID },
  };

  for (guint i = 0; i < G_N_ELEMENTS (table); i++)
    if (g_str_equal (answer->status, table[i].name))
      return table[i].status;
  return RELAY_STATUS_FAILED;
}

/* Sets the op's result from a mailbox script's answer. A status that needs
 * a mailbox (all but NOT_FOUND and INVALID) without one is malformed. */
static gboolean
take_answer (RelayOp  *op,
             Answer   *answer,
             GError  **error)
{
  op->status = status_from_answer (answer);
  if (op->status == RELAY_STATUS_FAILED)
    return protocol_error (error, "script status");
  if (op->status != RELAY_STATUS_NOT_FOUND && op->status != RELAY_STATUS_INVALID && answer->mailbox == NULL)
    return protocol_error (error, "script answer (no mailbox)");
  if (answer->mailbox != NULL && op->mailbox_id != NULL && g_strcmp0 (answer->mailbox->id, op->mailbox_id) != 0)
    return protocol_error (error, "script answer (another mailbox)");
  op->result = g_steal_pointer (&answer->mailbox);
  return TRUE;
}

/* The write is acknowledged only once a replica has it too. */
static gboolean
replicated (RelayRedisCluster  *client,
            const char         *id,
            GError            **error)
{
  g_autofree char *key = mailbox_key (id);

  return relay_redis_cluster_wait (client, key, WAIT_REPLICAS, WAIT_TIMEOUT_MS, error);
}

/* A retry's answer (DUP: an earlier attempt made the write) is waited for
 * too: that attempt may have had no replica's acknowledgement (its client
 * got a 503), and a failover would then lose what the 201 acknowledges.
 * WAIT counts only this connection's own writes, so one of its own goes
 * first, in the mailbox's slot: it follows the earlier write in the
 * primary's stream, and a replica that has it has both. */
static gboolean
replicated_retry (RelayRedisCluster  *client,
                  const char         *id,
                  GError            **error)
{
  g_autofree char *key = g_strdup_printf ("{m:%s}:w", id);
  const char *argv[] = { "SET", key, "1", "PX", "1000" };
  size_t argvlen[G_N_ELEMENTS (argv)];
  g_autoptr(redisReply) reply = NULL;

  for (guint i = 0; i < G_N_ELEMENTS (argv); i++)
    argvlen[i] = strlen (argv[i]);
  reply = relay_redis_cluster_command (client, key, RELAY_REDIS_COMMAND_IDEMPOTENT, G_N_ELEMENTS (argv), argv,
                                       argvlen, error);
  if (reply == NULL)
    return FALSE;
  if (reply->type == REDIS_REPLY_ERROR)
    {
      g_set_error (error, RELAY_REDIS_ERROR, RELAY_REDIS_ERROR_REPLY, "Redis: %s",
                   reply->str != NULL ? reply->str : "an error");
      return FALSE;
    }
  return relay_redis_cluster_wait (client, key, WAIT_REPLICAS, WAIT_TIMEOUT_MS, error);
}

/* Operations */

static char *
reservation_key (const char *claim,
                 const char *request_id)
{
  g_autofree char *text = g_strconcat (claim, "\n", request_id, NULL);
  g_autofree char *hash = g_compute_checksum_for_string (G_CHECKSUM_SHA256, text, -1);

  return g_strdup_printf ("{q:%.32s}", hash);
}

static void
reserve_call (Call       *call,
              const char *key,
              const char *id,
              gint64      expires,
              const char *replacing)
{
  call_init (call, SCRIPT_RESERVE, RELAY_REDIS_COMMAND_IDEMPOTENT);
  g_ptr_array_add (call->keys, g_strdup (key));
  g_ptr_array_add (call->args, g_strdup (id));
  g_ptr_array_add (call->args, g_strdup_printf ("%" G_GINT64_FORMAT, expires * 1000));
  g_ptr_array_add (call->args, g_strdup (replacing != NULL ? replacing : ""));
}

/* The reservation's answer: "" once this create's id is reserved, or the
 * id an earlier attempt reserved. */
static char *
reserve_parse (const redisReply  *reply,
               GError           **error)
{
  if (!is_string (reply) || (reply->len > 0 && !g_uuid_string_is_valid (reply->str)))
    return protocol_error (error, "reservation"), NULL;
  return g_strdup (reply->str);
}

static char *
reserve (RelayRedisCluster  *client,
         const char         *key,
         const char         *id,
         gint64              expires,
         const char         *replacing,
         GError            **error)
{
  g_auto(Call) call = { 0 };
  g_autoptr(redisReply) reply = NULL;

  reserve_call (&call, key, id, expires, replacing);
  reply = call_eval (client, &call, error);
  return reply != NULL ? reserve_parse (reply, error) : NULL;
}

static void
unreserve (RelayRedisCluster *client,
           const char        *key,
           const char        *id)
{
  const char *keys[] = { key };
  const char *args[] = { id };
  g_autoptr(GError) error = NULL;
  g_autoptr(redisReply) reply = eval (client, SCRIPT_UNRESERVE,
                                      RELAY_REDIS_COMMAND_IDEMPOTENT | RELAY_REDIS_COMMAND_CLEANUP, 1, keys, 1, args,
                                      &error);

  if (reply == NULL)
    cleanup_failed ("drop a reservation", error);
}

/* Whether @id, which a reservation named, answers the retried create. */
static gboolean
check_retry (RelayRedisCluster  *client,
             const char         *instance,
             RelayOp            *op,
             const char         *id,
             gboolean           *duplicate,
             GError            **error)
{
  g_auto(Answer) answer = { { 0 } };
  g_autofree char *mark_ms = g_strdup_printf ("%d", ABANDON_MS);
  const char *more[] = { mark_ms };

  *duplicate = FALSE;
  if (!mailbox_script (client, instance, SCRIPT_RETRY, id, op->now, op->claim, op->request_id, 1, more, &answer, error))
    return FALSE;
  if (g_str_equal (answer.status, "DUP"))
    {
      if (answer.mailbox == NULL || g_strcmp0 (answer.mailbox->id, id) != 0)
        return protocol_error (error, "retry answer");
      op->result = g_steal_pointer (&answer.mailbox);
      op->status = RELAY_STATUS_DUPLICATE;
      *duplicate = TRUE;
      return TRUE;
    }
  if (!g_str_equal (answer.status, "STALE") && !g_str_equal (answer.status, "GONE"))
    return protocol_error (error, "retry answer");
  return TRUE;
}

static void
push_field (GPtrArray  *args,
            const char *name,
            const char *value)
{
  if (value == NULL)
    return;
  g_ptr_array_add (args, g_strdup (name));
  g_ptr_array_add (args, g_strdup (value));
}

/* SCRIPT_CREATE's arguments after the common ones: the expiration in ms,
 * then the hash's fields and values. */
static GPtrArray *
create_fields (RelayOp    *op,
               const char *creator)
{
  RelayMailbox *m = op->mailbox;
  GPtrArray *args = g_ptr_array_new_with_free_func (g_free);

  g_ptr_array_add (args, g_strdup_printf ("%" G_GINT64_FORMAT, m->expires * 1000));
  push_field (args, "id", m->id);
  push_field (args, "v", "1");
  push_field (args, "ic", m->initiator_claim);
  g_ptr_array_add (args, g_strdup ("acc"));
  g_ptr_array_add (args, g_strdup_printf ("%d", (int) m->access));
  g_ptr_array_add (args, g_strdup ("cr"));
  g_ptr_array_add (args, g_strdup_printf ("%" G_GINT64_FORMAT, m->created));
  g_ptr_array_add (args, g_strdup ("ex"));
  g_ptr_array_add (args, g_strdup_printf ("%" G_GINT64_FORMAT, m->expires));
  push_field (args, "del", "0");
  push_field (args, "pt", m->payload_type);
  push_field (args, "pd", m->payload_data);
  push_field (args, "ti", m->title);
  push_field (args, "de", m->description);
  push_field (args, "im", m->image_url);
  push_field (args, "it", m->initiator_token);
  push_field (args, "irq", op->request_id);
  g_ptr_array_add (args, g_strdup ("sz"));
  g_ptr_array_add (args, g_strdup_printf ("%" G_GINT64_FORMAT, m->size));
  push_field (args, "cre", creator);
  g_ptr_array_add (args, g_strdup ("mr"));
  g_ptr_array_add (args, g_strdup_printf ("%u", MAX (m->max_recipients, 1)));

  return args;
}

/* What a create's SCRIPT_CREATE answered: OK, or an error. */
static gboolean
create_answered (RelayStoreRedis    *self,
                 RelayRedisCluster  *client,
                 RelayOp            *op,
                 const char         *creator,
                 Answer             *answer,
                 GError            **error)
{
  if (g_str_equal (answer->status, "ABANDONED"))
    {
      /* A retry on another instance took the reservation over meanwhile:
       * that one answers the request; this one is told to try again. */
      count_release (self, client, creator, op->now, op->mailbox->id, -1, 0);
      g_set_error_literal (error, RELAY_REDIS_ERROR, RELAY_REDIS_ERROR_UNAVAILABLE,
                           "A retry of this create took over; try again");
      return FALSE;
    }
  if (!g_str_equal (answer->status, "OK") || answer->mailbox != NULL)
    return protocol_error (error, "create answer");
  op->mailbox->version = 1;
  g_free (op->mailbox->initiator_request_id);
  op->mailbox->initiator_request_id = g_strdup (op->request_id);
  op->result = relay_mailbox_ref (op->mailbox);
  op->status = RELAY_STATUS_OK;
  return TRUE;
}

static void apply   (RelayStoreRedis   *self,
                     RelayRedisCluster *client,
                     RelayOp           *op);
static void fail_op (RelayStoreRedis   *self,
                     RelayOp           *op,
                     GError            *error);

static gboolean
apply_create (RelayStoreRedis    *self,
              RelayRedisCluster  *client,
              RelayOp            *op,
              GError            **error)
{
  RelayMailbox *m = op->mailbox;
  g_autofree char *reservation = NULL;
  g_autofree char *creator = NULL;
  g_autoptr(GPtrArray) args = NULL;
  g_auto(Answer) answer = { { 0 } };
  Usage usage;

  /* A retried create answers with the mailbox the first attempt made,
   * whichever instance made it. */
  if (op->request_id != NULL)
    {
      g_autofree char *replacing = NULL;

      reservation = reservation_key (op->claim, op->request_id);
      if (m == NULL)
        {
          /* A refused body: only a retry is answered. */
          const char *argv[] = { "GET", reservation };
          size_t argvlen[] = { 3, strlen (reservation) };
          g_autoptr(redisReply) reply = relay_redis_cluster_command (client, reservation, RELAY_REDIS_COMMAND_IDEMPOTENT,
                                                                     2, argv, argvlen, error);
          gboolean duplicate = FALSE;

          if (reply == NULL)
            return FALSE;
          if (is_string (reply) && g_uuid_string_is_valid (reply->str))
            {
              if (!check_retry (client, self->instance, op, reply->str, &duplicate, error))
                return FALSE;
              if (duplicate && !replicated_retry (client, reply->str, error))
                return FALSE;
            }
          else if (reply->type != REDIS_REPLY_NIL)
            return protocol_error (error, "reservation");
          if (!duplicate)
            op->status = RELAY_STATUS_INVALID;
          return TRUE;
        }

      /* Two rounds: the second replaces a reservation whose mailbox is
       * gone or no longer answers the retry (SQLite then makes a new one
       * too). */
      for (guint round = 0; round < 3; round++)
        {
          g_autofree char *earlier = reserve (client, reservation, m->id, m->expires, replacing, error);
          gboolean duplicate = FALSE;

          if (earlier == NULL)
            return FALSE;
          if (*earlier == '\0')
            break;
          if (round == 2)
            {
              g_set_error_literal (error, RELAY_REDIS_ERROR, RELAY_REDIS_ERROR_UNAVAILABLE,
                                   "Concurrent creates with one request id; try again");
              return FALSE;
            }
          if (!check_retry (client, self->instance, op, earlier, &duplicate, error))
            return FALSE;
          if (duplicate)
            return replicated_retry (client, earlier, error);
          g_free (replacing);
          replacing = g_steal_pointer (&earlier);
        }
    }
  else if (m == NULL)
    {
      op->status = RELAY_STATUS_INVALID;
      return TRUE;
    }

  /* Places first, everyone's then the creator's, as SQLite checks them. */
  m->size = relay_mailbox_get_size (m);
  if (!count_step (self, client, NULL, op->now, m->id, 1, m->size, m->expires, &usage, error))
    return FALSE;
  if (!usage.admitted)
    {
      op->status = RELAY_STATUS_STORE_FULL;
      if (reservation != NULL)
        unreserve (client, reservation, m->id);
      return TRUE;
    }
  if (m->has_creator)
    {
      creator = format_creator (&m->creator);
      if (!count_step (self, client, creator, op->now, m->id, 1, m->size, m->expires, &usage, error))
        {
          count_release (self, client, NULL, op->now, m->id, -1, 0);
          return FALSE;
        }
      if (!usage.admitted)
        {
          count_release (self, client, NULL, op->now, m->id, -1, 0);
          op->status = RELAY_STATUS_CLIENT_FULL;
          if (reservation != NULL)
            unreserve (client, reservation, m->id);
          return TRUE;
        }
    }

  args = create_fields (op, creator);
  if (!mailbox_script (client, self->instance, SCRIPT_CREATE, m->id, op->now, op->claim, op->request_id, args->len,
                       (const char * const *) args->pdata, &answer, error))
    /* It may have run: its places stay counted until its expiration. */
    return FALSE;
  return create_answered (self, client, op, creator, &answer, error) && replicated (client, m->id, error);
}

/* STEP_FAILED: no answer, or a malformed one; it may have run. */
typedef enum { STEP_NONE, STEP_OK, STEP_REFUSED, STEP_FAILED } Step;

/* One create of apply_creates(): its calls (-1: none) and what its counts
 * said. The mailbox's call of a create with a reservation is in the second
 * round's calls, the others in the first round's. */
typedef struct
{
  RelayOp *op;
  char    *reservation;   /* {q:…}, with a request id */
  char    *creator;       /* hex, with a creator */
  int      calls[4];      /* CREATE_CALL_* */
  guint    everyone_at;   /* its place in the counts' calls (script_count_many) */
  guint    creator_at;
  Step     everyone;
  Step     by_creator;
} CreateEntry;

enum { CREATE_CALL_RESERVE, CREATE_CALL_EVERYONE, CREATE_CALL_CREATOR, CREATE_CALL_MAILBOX };

/* Sets @call to count a batch's new mailboxes in one scope
 * (script_count_many); count_many_add() adds each. @creator: hex, or NULL
 * for everyone's. */
static void
count_many_call (RelayStoreRedis *self,
                 Call            *call,
                 const char      *creator,
                 gint64           now)
{
  /* Counting a mailbox is idempotent by its id. */
  call_init (call, SCRIPT_COUNT_MANY, RELAY_REDIS_COMMAND_IDEMPOTENT);
  scope_keys (call, creator);
  g_ptr_array_add (call->args, g_strdup_printf ("%" G_GINT64_FORMAT, now));
  scope_bounds (self, call, creator);
}

#define COUNT_MANY_ARGS 4

/* Adds @m to a count_many_call(); returns its place in the answer. */
static guint
count_many_add (Call               *call,
                const RelayMailbox *m,
                gint64              now)
{
  guint at = (call->args->len - COUNT_MANY_ARGS) / 3;

  /* The latest now of the batch: what expired by then is forgotten. */
  if (now > g_ascii_strtoll (call->args->pdata[0], NULL, 10))
    {
      g_free (call->args->pdata[0]);
      call->args->pdata[0] = g_strdup_printf ("%" G_GINT64_FORMAT, now);
    }
  g_ptr_array_add (call->args, g_strdup (m->id));
  g_ptr_array_add (call->args, g_strdup_printf ("%" G_GINT64_FORMAT, (gint64) m->size));
  g_ptr_array_add (call->args, g_strdup_printf ("%" G_GINT64_FORMAT, m->expires));
  return at;
}

/* Checks a count_many_call()'s answer, once for all its mailboxes, and
 * keeps everyone's totals for the state; a malformed answer becomes the
 * call's error. */
static void
count_many_check (RelayStoreRedis *self,
                  Call            *call)
{
  const redisReply *reply = call->reply;
  guint n_ids = (call->args->len - COUNT_MANY_ARGS) / 3;

  if (reply == NULL)
    return;
  if (reply->type != REDIS_REPLY_ARRAY || reply->elements != 3 + n_ids)
    reply = NULL;
  for (guint i = 0; reply != NULL && i < reply->elements; i++)
    if (reply->element[i]->type != REDIS_REPLY_INTEGER)
      reply = NULL;
  if (reply == NULL)
    {
      g_clear_pointer (&call->reply, freeReplyObject);
      g_clear_error (&call->error);
      protocol_error (&call->error, "count");
      return;
    }

  if (g_str_equal (call->keys->pdata[0], GLOBAL_KEY))
    {
      g_mutex_lock (&self->lock);
      self->state.mailboxes = reply->element[0]->integer;
      self->state.bytes = reply->element[1]->integer;
      self->forgotten += reply->element[2]->integer;
      g_mutex_unlock (&self->lock);
    }
}

/* What a create's place @at in a checked count_many_call() said. */
static Step
count_outcome (const Call  *call,
               guint        at,
               GError     **error)
{
  if (call->reply == NULL)
    {
      if (call->error != NULL)
        g_propagate_error (error, g_error_copy (call->error));
      else
        protocol_error (error, "count");
      return STEP_FAILED;
    }
  return call->reply->element[3 + at]->integer == 1 ? STEP_OK : STEP_REFUSED;
}

/* Sets @e's count steps; @error: the first failure's. */
static void
counts_outcome (CreateEntry  *e,
                Call         *calls,
                GError      **error)
{
  e->everyone = count_outcome (&calls[e->calls[CREATE_CALL_EVERYONE]], e->everyone_at,
                               *error == NULL ? error : NULL);
  e->by_creator = e->calls[CREATE_CALL_CREATOR] < 0
                    ? STEP_NONE
                    : count_outcome (&calls[e->calls[CREATE_CALL_CREATOR]], e->creator_at,
                                     *error == NULL ? error : NULL);
}

/* Gives back the places @e was granted. Failures leave them counted until
 * the mailbox's expiration, as after a relay that dies midway. */
static void
counts_release (RelayStoreRedis   *self,
                RelayRedisCluster *client,
                CreateEntry       *e)
{
  if (e->everyone == STEP_OK)
    give_back (self, client, NULL, e->op->now, e->op->mailbox->id, -1, 0);
  if (e->by_creator == STEP_OK)
    give_back (self, client, e->creator, e->op->now, e->op->mailbox->id, -1, 0);
}

/* Deletes a mailbox that was written but will not be acknowledged. Only for
 * a create without a request id: nothing but its answer would ever name it. */
static void
mailbox_drop (RelayRedisCluster *client,
              const char        *id)
{
  g_autofree char *key = mailbox_key (id);
  const char *argv[] = { "DEL", key };
  size_t argvlen[] = { 3, strlen (key) };
  g_autoptr(GError) error = NULL;
  g_autoptr(redisReply) reply = relay_redis_cluster_command (client, key,
                                                             RELAY_REDIS_COMMAND_IDEMPOTENT |
                                                               RELAY_REDIS_COMMAND_CLEANUP,
                                                             2, argv, argvlen, &error);

  if (reply == NULL)
    cleanup_failed ("drop a mailbox that was not acknowledged", error);
}

/* Whether SCRIPT_CREATE made the mailbox: STEP_OK, STEP_REFUSED (it
 * answered something else), STEP_FAILED (no answer, or a malformed one). */
static Step
mailbox_outcome (const Call *call)
{
  g_auto(Answer) answer = { { 0 } };

  if (call->reply == NULL || !parse_answer (call->reply, &answer, NULL))
    return STEP_FAILED;
  return g_str_equal (answer.status, "OK") ? STEP_OK : STEP_REFUSED;
}

/* A create whose places were granted, from its SCRIPT_CREATE's answer:
 * as the end of apply_create(). */
static void
create_settle_mailbox (RelayStoreRedis   *self,
                       RelayRedisCluster *client,
                       CreateEntry       *e,
                       Call              *mailbox)
{
  RelayOp *op = e->op;
  g_autoptr(GError) error = NULL;
  g_auto(Answer) answer = { { 0 } };

  /* No answer: it may have run, and its places stay counted. */
  if (mailbox->reply == NULL)
    fail_op (self, op, g_steal_pointer (&mailbox->error));
  else if (!parse_answer (mailbox->reply, &answer, &error) ||
           !create_answered (self, client, op, e->creator, &answer, &error))
    fail_op (self, op, g_steal_pointer (&error));
  else if (!mailbox->replicated)
    /* Made, but a failover now could lose it: 503, as apply_create(). */
    fail_op (self, op, g_steal_pointer (&mailbox->error));
}

/* A create without a request id, whose counts and mailbox were sent
 * together: a mailbox refused by a count is deleted again. */
static void
create_settle_unreserved (RelayStoreRedis   *self,
                          RelayRedisCluster *client,
                          CreateEntry       *e,
                          Call              *calls)
{
  Call *mailbox = &calls[e->calls[CREATE_CALL_MAILBOX]];
  g_autoptr(GError) error = NULL;
  Step made = mailbox_outcome (mailbox);

  counts_outcome (e, calls, &error);
  if (e->everyone == STEP_REFUSED || e->by_creator == STEP_REFUSED || error != NULL)
    {
      /* A mailbox whose making is unknown may be there: what it was
       * granted stays counted, as for any create whose answer was lost. */
      if (made == STEP_OK)
        mailbox_drop (client, e->op->mailbox->id);
      if (made != STEP_FAILED)
        counts_release (self, client, e);
      if (e->everyone == STEP_REFUSED || e->by_creator == STEP_REFUSED)
        /* Refused by a limit, in SQLite's order: everyone's first. */
        e->op->status = e->everyone == STEP_REFUSED ? RELAY_STATUS_STORE_FULL : RELAY_STATUS_CLIENT_FULL;
      else
        fail_op (self, e->op, g_steal_pointer (&error));
      return;
    }
  create_settle_mailbox (self, client, e, mailbox);
}

/* A create with a request id, from its reservation and counts: whether its
 * mailbox may be made now (apply_creates()' second round). */
static gboolean
create_settle_reserved (RelayStoreRedis   *self,
                        RelayRedisCluster *client,
                        CreateEntry       *e,
                        Call              *calls)
{
  Call *reservation = &calls[e->calls[CREATE_CALL_RESERVE]];
  RelayOp *op = e->op;
  g_autoptr(GError) error = NULL;
  g_autofree char *earlier = NULL;

  if (reservation->reply == NULL)
    error = g_steal_pointer (&reservation->error);
  else
    earlier = reserve_parse (reservation->reply, &error);
  counts_outcome (e, calls, &error);

  if (earlier != NULL && *earlier != '\0')
    {
      /* A retry of a create an earlier attempt reserved: apply_create()
       * answers with what that one did. */
      counts_release (self, client, e);
      apply (self, client, op);
      return FALSE;
    }
  if (earlier == NULL)
    {
      /* The reservation may have run: only a 503 says nothing wrong. */
      counts_release (self, client, e);
      fail_op (self, op, g_steal_pointer (&error));
      return FALSE;
    }
  if (e->everyone == STEP_REFUSED || e->by_creator == STEP_REFUSED)
    {
      counts_release (self, client, e);
      unreserve (client, e->reservation, op->mailbox->id);
      op->status = e->everyone == STEP_REFUSED ? RELAY_STATUS_STORE_FULL : RELAY_STATUS_CLIENT_FULL;
      return FALSE;
    }
  if (error != NULL)
    {
      counts_release (self, client, e);
      fail_op (self, op, g_steal_pointer (&error));
      return FALSE;
    }
  return TRUE;
}

/* The batch of creates that creates_thread() took. Each create's places
 * in everyone's count and its creator's, and its mailbox, go out together
 * with the other creates', pipelined to every primary they touch, then one
 * WAIT on each (calls_run()): a primary runs them in one turn of its loop
 * and syncs its append-only file once for all of them. Nobody has the id
 * of a create without a request id before its answer, so its mailbox is
 * written before its places are known, and deleted again if they are
 * refused. A create with a request id takes its reservation (with its
 * places) first, and writes its mailbox in a second round only once they
 * were granted: a retry may find the reservation and must never be
 * answered with a mailbox that is then taken back. A retry of a create an
 * earlier attempt reserved, or a create without a body, goes through
 * apply_create() alone. */
static void
apply_creates (RelayStoreRedis   *self,
               RelayRedisCluster *client,
               RelayOp          **ops,
               guint              n_ops)
{
  g_autofree CreateEntry *entries = g_new0 (CreateEntry, n_ops);
  g_autofree Call *calls = g_new0 (Call, 4 * n_ops);
  g_autofree Call *second = g_new0 (Call, n_ops);
  g_autoptr(GHashTable) by_creator = g_hash_table_new (g_str_hash, g_str_equal);
  int everyone = -1;
  guint n = 0, n_second = 0;

  for (guint i = 0; i < n_ops; i++)
    {
      CreateEntry *e = &entries[i];
      RelayOp *op = ops[i];
      RelayMailbox *m = op->mailbox;

      e->op = op;
      for (guint k = 0; k < G_N_ELEMENTS (e->calls); k++)
        e->calls[k] = -1;
      if (m == NULL)
        {
          apply (self, client, op);
          continue;
        }
      m->size = relay_mailbox_get_size (m);
      if (m->has_creator)
        e->creator = format_creator (&m->creator);
      if (op->request_id != NULL)
        {
          e->reservation = reservation_key (op->claim, op->request_id);
          reserve_call (&calls[n], e->reservation, m->id, m->expires, NULL);
          e->calls[CREATE_CALL_RESERVE] = (int) n++;
        }
      /* One call counts the batch in everyone's count, one in each
       * creator's: their per-call cost was a third of Redis's work. */
      if (everyone < 0)
        {
          count_many_call (self, &calls[n], NULL, op->now);
          everyone = (int) n++;
        }
      e->calls[CREATE_CALL_EVERYONE] = everyone;
      e->everyone_at = count_many_add (&calls[everyone], m, op->now);
      if (e->creator != NULL)
        {
          gpointer at;

          if (!g_hash_table_lookup_extended (by_creator, e->creator, NULL, &at))
            {
              count_many_call (self, &calls[n], e->creator, op->now);
              at = GINT_TO_POINTER ((int) n++);
              g_hash_table_insert (by_creator, e->creator, at);
            }
          e->calls[CREATE_CALL_CREATOR] = GPOINTER_TO_INT (at);
          e->creator_at = count_many_add (&calls[GPOINTER_TO_INT (at)], m, op->now);
        }
      if (e->reservation == NULL)
        {
          mailbox_call (&calls[n], self->instance, SCRIPT_CREATE, m->id, op->now, op->claim, NULL, 0, NULL);
          g_ptr_array_extend_and_steal (calls[n].args, create_fields (op, e->creator));
          e->calls[CREATE_CALL_MAILBOX] = (int) n++;
        }
    }

  calls_run (client, calls, n, TRUE);
  for (guint i = 0; i < n; i++)
    if (calls[i].script == SCRIPT_COUNT_MANY)
      count_many_check (self, &calls[i]);

  for (guint i = 0; i < n_ops; i++)
    {
      CreateEntry *e = &entries[i];
      RelayOp *op = e->op;

      if (e->calls[CREATE_CALL_EVERYONE] < 0)
        continue;
      if (e->reservation == NULL)
        create_settle_unreserved (self, client, e, calls);
      else if (create_settle_reserved (self, client, e, calls))
        {
          mailbox_call (&second[n_second], self->instance, SCRIPT_CREATE, op->mailbox->id, op->now, op->claim,
                        op->request_id, 0, NULL);
          g_ptr_array_extend_and_steal (second[n_second].args, create_fields (op, e->creator));
          e->calls[CREATE_CALL_MAILBOX] = (int) n_second++;
        }
    }

  calls_run (client, second, n_second, TRUE);

  for (guint i = 0; i < n_ops; i++)
    {
      CreateEntry *e = &entries[i];

      if (e->reservation != NULL && e->calls[CREATE_CALL_MAILBOX] >= 0)
        create_settle_mailbox (self, client, e, &second[e->calls[CREATE_CALL_MAILBOX]]);
      g_free (e->reservation);
      g_free (e->creator);
    }
  for (guint i = 0; i < n; i++)
    call_clear (&calls[i]);
  for (guint i = 0; i < n_second; i++)
    call_clear (&second[i]);
}

/* Holds a write's answer until the read leases other instances had when
 * it was made have run out (@lease_ms from then; @answered: when its
 * answer came, which is after it was made), so that none of them answers
 * a read with what the write replaced once the write is acknowledged.
 * Their own news of it (publish_change()) usually drops those answers
 * sooner; the lease is what holds when that news is late or lost. */
static void
outlast_leases (RelayStoreRedis *self,
                gint64           lease_ms,
                gint64           answered)
{
  gint64 until, now;

  if (lease_ms <= 0)
    return;
  /* The primary counts in whole milliseconds. */
  until = answered + (lease_ms + 1) * 1000;
  now = g_get_monotonic_time ();
  if (until > now)
    g_usleep ((gulong) (until - now));
  relay_store_stats_add (&self->stats.lease_waits, 1);
  relay_store_stats_add (&self->stats.lease_wait_usec, (guint64) MAX (until - now, 0));
}

/* Updates, reads, deletes and relinquishments: one script each. */
/* Wakes the waiting reads of @mailbox_id on every instance
 * (relay-redis-subscriber.c). A message that does not arrive costs a waiting
 * read its wake-up, not the write: that read learns of the change at the
 * end of its wait. */
static void
publish_change (RelayRedisCluster *client,
                const char        *mailbox_id)
{
  g_autofree char *channel = relay_redis_wake_channel (mailbox_id);
  const char *argv[] = { "SPUBLISH", channel, mailbox_id };
  g_autoptr(GError) error = NULL;
  g_autoptr(redisReply) reply = NULL;

  /* Published twice, a waiter looks twice: harmless. */
  reply = relay_redis_cluster_command (client, channel, RELAY_REDIS_COMMAND_IDEMPOTENT, G_N_ELEMENTS (argv), argv,
                                       NULL, &error);
  if (reply == NULL)
    g_debug ("Could not publish a change: %s", error->message);
}

static gboolean
apply_mailbox (RelayStoreRedis    *self,
               RelayRedisCluster  *client,
               RelayOp            *op,
               GError            **error)
{
  static const Script which[] = {
    [RELAY_OP_UPDATE] = SCRIPT_UPDATE,
    [RELAY_OP_READ] = SCRIPT_READ,
    [RELAY_OP_DELETE] = SCRIPT_DELETE,
    [RELAY_OP_RELINQUISH] = SCRIPT_RELINQUISH,
  };
  gint64 reserved = 0;
  gint64 answered;

  if (op->mailbox_id == NULL || !g_uuid_string_is_valid (op->mailbox_id))
    {
      op->status = RELAY_STATUS_NOT_FOUND;
      return TRUE;
    }

  for (guint round = 0; round < 3; round++)
    {
      g_auto(Answer) answer = { { 0 } };
      g_autofree char *if_match = g_strdup_printf ("%" G_GINT64_FORMAT, op->if_match);
      g_autofree char *reserved_text = g_strdup_printf ("%" G_GINT64_FORMAT, reserved);
      const char *more[] = {
        if_match, op->payload_data != NULL ? "1" : "0", op->payload_type != NULL ? op->payload_type : "",
        op->payload_data != NULL ? op->payload_data : "", op->token != NULL ? op->token : "",
        op->token != NULL ? "1" : "0", reserved_text,
      };
      gboolean update = op->kind == RELAY_OP_UPDATE;

      if (!mailbox_script (client, self->instance, which[op->kind], op->mailbox_id, op->now, op->claim, op->request_id,
                           update ? G_N_ELEMENTS (more) : 0, more, &answer, error))
        return FALSE;
      answered = g_get_monotonic_time ();

      if (update && g_str_equal (answer.status, "GROW"))
        {
          Usage usage;

          /* Growing counts against the limits too (as in SQLite), so that
           * small creates and large updates cannot get around them. */
          if (reserved > 0)
            count_release (self, client, answer.creator, op->now, op->mailbox_id, 0, -reserved);
          reserved = 0;
          if (answer.bytes <= 0)
            return protocol_error (error, "growth");
          if (!count_step (self, client, NULL, op->now, op->mailbox_id, 0, answer.bytes, 0, &usage, error))
            return FALSE;
          if (!usage.admitted)
            {
              op->status = RELAY_STATUS_STORE_FULL;
              return TRUE;
            }
          if (answer.creator != NULL)
            {
              if (!count_step (self, client, answer.creator, op->now, op->mailbox_id, 0, answer.bytes, 0, &usage,
                               error))
                {
                  count_release (self, client, NULL, op->now, op->mailbox_id, 0, -answer.bytes);
                  return FALSE;
                }
              if (!usage.admitted)
                {
                  count_release (self, client, NULL, op->now, op->mailbox_id, 0, -answer.bytes);
                  op->status = RELAY_STATUS_CLIENT_FULL;
                  return TRUE;
                }
            }
          reserved = answer.bytes;
          continue;
        }

      if (!take_answer (op, &answer, error))
        {
          if (reserved > 0)
            count_release (self, client, answer.creator, op->now, op->mailbox_id, 0, -reserved);
          return FALSE;
        }

      /* What was reserved and not used, or what an update freed. */
      if (update && (reserved > 0 || answer.bytes < 0))
        {
          gint64 used = op->status == RELAY_STATUS_OK ? answer.bytes : 0;

          if (used != reserved)
            count_release (self, client, answer.creator, op->now, op->mailbox_id, 0, used - reserved);
        }
      /* A delete gives the mailbox's place back. */
      if (op->kind == RELAY_OP_DELETE && op->status == RELAY_STATUS_OK && answer.mailboxes < 0)
        count_release (self, client, answer.creator, op->now, op->mailbox_id, -1, 0);

      if (op->status == RELAY_STATUS_OK)
        {
          gboolean ok = replicated (client, op->mailbox_id, error);

          /* After WAIT, which must follow the script on its connection.
           * Published even if not replicated: the primary has it, and
           * readers are served from it. */
          publish_change (client, op->mailbox_id);
          if (ok)
            outlast_leases (self, answer.lease_ms, answered);
          return ok;
        }
      if (op->status == RELAY_STATUS_DUPLICATE)
        {
          /* The first attempt may not have waited for the leases. */
          if (!replicated_retry (client, op->mailbox_id, error))
            return FALSE;
          outlast_leases (self, answer.lease_ms, answered);
        }
      return TRUE;
    }

  g_set_error_literal (error, RELAY_REDIS_ERROR, RELAY_REDIS_ERROR_UNAVAILABLE,
                       "The mailbox kept growing under this update; try again");
  return FALSE;
}

static gboolean
apply_purge (RelayStoreRedis    *self,
             RelayRedisCluster  *client,
             RelayOp            *op,
             GError            **error)
{
  Usage usage;

  /* Redis drops expired hashes itself; the counts drop them here. */
  if (!count_step (self, client, NULL, op->now, NULL, 0, 0, 0, &usage, error))
    return FALSE;
  g_mutex_lock (&self->lock);
  op->purged = self->forgotten;
  self->forgotten = 0;
  g_mutex_unlock (&self->lock);
  op->status = RELAY_STATUS_OK;
  return TRUE;
}

/* The live count for /metrics, as count_live() gives it, on a worker. */
static gboolean
apply_count (RelayStoreRedis    *self,
             RelayRedisCluster  *client,
             RelayOp            *op,
             GError            **error)
{
  Usage usage;

  if (!count_step (self, client, NULL, op->now, NULL, 0, 0, 0, &usage, error))
    return FALSE;
  op->count = usage.mailboxes;
  op->status = RELAY_STATUS_OK;
  return TRUE;
}

/* Health */

static void
probe_soon (RelayStoreRedis *self)
{
  g_mutex_lock (&self->lock);
  self->probe_now = TRUE;
  g_cond_signal (&self->probe_cond);
  g_mutex_unlock (&self->lock);
}

/* What @client's redirections and reconnections added since @redirects and
 * @reconnects were taken from it. */
static void
account (RelayStoreRedis   *self,
         RelayRedisCluster *client,
         guint64           *redirects,
         guint64           *reconnects)
{
  guint64 now_redirects = relay_redis_cluster_get_redirects (client);
  guint64 now_reconnects = relay_redis_cluster_get_reconnects (client);

  relay_store_stats_add (&self->stats.redirects, now_redirects - *redirects);
  relay_store_stats_add (&self->stats.reconnects, now_reconnects - *reconnects);
  *redirects = now_redirects;
  *reconnects = now_reconnects;
}

static const char *
health_words (RelayStoreHealth health)
{
  switch (health)
    {
    case RELAY_STORE_HEALTH_UNKNOWN:
      return "not probed yet";
    case RELAY_STORE_HEALTH_OK:
      return "reachable";
    case RELAY_STORE_HEALTH_NO_NODE:
      return "no primary answers";
    case RELAY_STORE_HEALTH_CLUSTER_DOWN:
      return "a primary says the cluster is down";
    case RELAY_STORE_HEALTH_UNCOVERED:
      return "some slots have no primary";
    default:
      return "unknown";
    }
}

static void
set_health (RelayStoreRedis  *self,
            RelayStoreHealth  health,
            guint             answering,
            guint             known,
            const char       *detail)
{
  RelayStoreHealth was = (RelayStoreHealth) g_atomic_int_get (&self->stats.health);

  relay_store_stats_set_health (&self->stats, health, answering, known);
  /* Once per change: an operator sees when it went and when it came back. */
  if (was == health)
    return;
  if (health == RELAY_STORE_HEALTH_OK)
    g_message ("The Redis cluster is reachable: %u primaries answer", answering);
  else
    g_warning ("The Redis cluster is unavailable: %s%s%s", health_words (health),
               detail != NULL ? ": " : "", detail != NULL ? detail : "");
}

/* One round: the slot map from any node, then CLUSTER INFO from every
 * primary in it (each with the client's timeout), which both shows it
 * answers and what it thinks of the cluster. */
static void
probe (RelayStoreRedis   *self,
       RelayRedisCluster *client,
       gboolean           refresh)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(GPtrArray) primaries = NULL;
  guint answering = 0;
  gboolean down = FALSE;

  if (refresh && !relay_redis_cluster_refresh (client, &error))
    {
      set_health (self, RELAY_STORE_HEALTH_NO_NODE, 0, 0, error->message);
      return;
    }

  primaries = relay_redis_cluster_primaries (client);
  for (guint i = 0; i < primaries->len; i++)
    {
      const char *argv[] = { "CLUSTER", "INFO" };
      const size_t argvlen[] = { 7, 4 };
      g_autoptr(redisReply) reply = NULL;
      gboolean stopping;

      g_mutex_lock (&self->lock);
      stopping = self->stopping;
      g_mutex_unlock (&self->lock);
      if (stopping)
        return;

      reply = relay_redis_cluster_command_at (client, g_ptr_array_index (primaries, i), 2, argv, argvlen, NULL);
      if (reply == NULL || reply->type != REDIS_REPLY_STRING || reply->str == NULL ||
          strlen (reply->str) != reply->len)
        continue;
      answering++;
      /* With cluster-require-full-coverage, a node that says fail refuses
       * every command, so its slots are lost to us. */
      if (strstr (reply->str, "cluster_state:ok") == NULL)
        down = TRUE;
    }

  if (answering == 0)
    set_health (self, RELAY_STORE_HEALTH_NO_NODE, 0, primaries->len, NULL);
  else if (down)
    set_health (self, RELAY_STORE_HEALTH_CLUSTER_DOWN, answering, primaries->len, NULL);
  else if (relay_redis_cluster_count_covered (client) < RELAY_REDIS_SLOTS)
    set_health (self, RELAY_STORE_HEALTH_UNCOVERED, answering, primaries->len, NULL);
  else
    set_health (self, RELAY_STORE_HEALTH_OK, answering, primaries->len, NULL);
}

static gpointer
probe_thread (gpointer data)
{
  RelayStoreRedis *self = data;
  g_autoptr(RelayRedisCluster) client = relay_redis_cluster_new ((const char * const *) self->nodes, TIMEOUT_MS);

  /* One try per node and round: the next round is the retry. */
  relay_redis_cluster_set_max_attempts (client, 1);

  g_mutex_lock (&self->lock);
  for (guint round = 0; !self->stopping; round++)
    {
      gint64 probed;
      /* Every primary answered last time. */
      gboolean healthy = g_atomic_int_get (&self->stats.health) == RELAY_STORE_HEALTH_OK &&
                         g_atomic_int_get ((gint *) &self->stats.primaries) ==
                         g_atomic_int_get ((gint *) &self->stats.primaries_known);

      self->probe_now = FALSE;
      g_mutex_unlock (&self->lock);
      /* A healthy cluster's map is asked again only now and then, and
       * after a primary did not answer (a failover changes it): a cluster
       * that stops answering costs one timeout per primary, not one per
       * node, before it shows. */
      probe (self, client, !healthy || round % PROBE_REFRESH_ROUNDS == 0);
      g_mutex_lock (&self->lock);

      /* Every interval, or sooner when an operation failed, but not more
       * often than PROBE_GAP_USEC however many fail. */
      probed = g_get_monotonic_time ();
      while (!self->stopping)
        {
          gint64 now = g_get_monotonic_time ();

          if (now >= probed + PROBE_INTERVAL_USEC || (self->probe_now && now >= probed + PROBE_GAP_USEC))
            break;
          g_cond_wait_until (&self->probe_cond, &self->lock,
                             self->probe_now ? probed + PROBE_GAP_USEC : probed + PROBE_INTERVAL_USEC);
        }
    }
  g_mutex_unlock (&self->lock);
  return NULL;
}

/* HGETALL of the mailbox's hash, with @client (a worker's, or the lookup
 * client under lookup_lock). With @instance, it also takes that instance's
 * read lease on it (script_lease), if it exists. */
static RelayMailbox *
lookup_with (RelayRedisCluster  *client,
             const char         *id,
             const char         *instance,
             guint               lease_ms,
             GError            **error)
{
  g_autofree char *key = NULL;
  g_autoptr(redisReply) reply = NULL;
  RelayMailbox *mailbox;

  if (id == NULL || !g_uuid_string_is_valid (id))
    return NULL;

  key = mailbox_key (id);
  if (instance != NULL)
    {
      g_autofree char *leases = lease_key (id);
      g_autofree char *ms = g_strdup_printf ("%u", lease_ms);
      const char *keys[] = { key, leases };
      const char *args[] = { instance, ms };

      /* Taking the lease twice is harmless. */
      reply = eval (client, SCRIPT_LEASE, RELAY_REDIS_COMMAND_IDEMPOTENT, G_N_ELEMENTS (keys), keys,
                    G_N_ELEMENTS (args), args, error);
    }
  else
    {
      const char *argv[] = { "HGETALL", key };
      size_t argvlen[] = { 7, strlen (key) };

      reply = relay_redis_cluster_command (client, key, RELAY_REDIS_COMMAND_IDEMPOTENT, 2, argv, argvlen, error);
    }
  if (reply == NULL)
    return NULL;
  if (reply->type != REDIS_REPLY_ARRAY)
    {
      if (reply->type == REDIS_REPLY_ERROR)
        g_set_error (error, RELAY_REDIS_ERROR, RELAY_REDIS_ERROR_REPLY, "Redis: %s",
                     reply->str != NULL ? reply->str : "an error");
      else
        protocol_error (error, "mailbox");
      return NULL;
    }

  mailbox = mailbox_from_fields (reply->element, reply->elements, error);
  if (mailbox != NULL && g_strcmp0 (mailbox->id, id) != 0)
    {
      relay_mailbox_unref (mailbox);
      protocol_error (error, "mailbox (another id)");
      return NULL;
    }
  return mailbox;
}

static void
apply (RelayStoreRedis   *self,
       RelayRedisCluster *client,
       RelayOp           *op)
{
  g_autoptr(GError) error = NULL;
  gboolean ok;

  switch (op->kind)
    {
    case RELAY_OP_CREATE:
      ok = apply_create (self, client, op, &error);
      break;
    case RELAY_OP_PURGE:
      ok = apply_purge (self, client, op, &error);
      break;
    case RELAY_OP_UPDATE:
    case RELAY_OP_READ:
    case RELAY_OP_DELETE:
    case RELAY_OP_RELINQUISH:
      ok = apply_mailbox (self, client, op, &error);
      break;
    case RELAY_OP_LOOKUP:
      {
        gboolean lease = op->lease && self->lease_ms > 0;

        op->result = lookup_with (client, op->mailbox_id, lease ? self->instance : NULL, self->lease_ms, &error);
        op->leased = lease && op->result != NULL;
      }
      ok = error == NULL;
      op->status = RELAY_STATUS_OK;
      break;
    case RELAY_OP_COUNT:
      ok = apply_count (self, client, op, &error);
      break;
    default:
      g_assert_not_reached ();
    }

  if (!ok)
    fail_op (self, op, g_steal_pointer (&error));
}

/* Nothing the store did not confirm is acknowledged: 503, try again.
 * Takes @error. */
static void
fail_op (RelayStoreRedis *self,
         RelayOp         *op,
         GError          *error)
{
  g_clear_pointer (&op->result, relay_mailbox_unref);
  op->status = RELAY_STATUS_FAILED;
  g_clear_error (&op->error);
  op->error = error;
  if (g_error_matches (op->error, RELAY_REDIS_ERROR, RELAY_REDIS_ERROR_NOT_REPLICATED))
    relay_store_stats_add (&self->stats.not_replicated, 1);
  else if (g_error_matches (op->error, RELAY_REDIS_ERROR, RELAY_REDIS_ERROR_UNAVAILABLE))
    probe_soon (self);

  {
    guint64 suppressed = 0;
    gboolean log;

    g_mutex_lock (&self->lock);
    log = httpd_log_limit_allow (&self->failure_log, LOG_INTERVAL_SECONDS, &suppressed);
    g_mutex_unlock (&self->lock);
    if (log)
      g_warning ("Store operation failed: %s (and %" G_GUINT64_FORMAT " more in the last %u s)",
                 op->error->message, suppressed, LOG_INTERVAL_SECONDS);
  }
}

/* Hands @op's outcome back. */
static void
finish (RelayStoreRedis *self,
        RelayOp         *op)
{
  g_mutex_lock (&self->lock);
  if (op->status == RELAY_STATUS_STORE_FULL || op->status == RELAY_STATUS_CLIENT_FULL)
    self->state.refused_full++;
  g_mutex_unlock (&self->lock);

  op->done (op, op->user_data);

  g_mutex_lock (&self->lock);
  if (--self->outstanding == 0)
    g_cond_broadcast (&self->idle);
  g_mutex_unlock (&self->lock);
}

/* When @op's work on the store stops (OP_BUDGET_MS from its submission:
 * its wait for a thread counts too), so that it is answered in time. */
static gint64
op_deadline (const RelayOp *op)
{
  return (op->submitted > 0 ? op->submitted : g_get_monotonic_time ()) + (gint64) OP_BUDGET_MS * 1000;
}

static gpointer
worker_thread (gpointer data)
{
  RelayStoreRedis *self = data;
  g_autoptr(RelayRedisCluster) client = relay_redis_cluster_new ((const char * const *) self->nodes, TIMEOUT_MS);
  guint64 redirects = 0, reconnects = 0;

  /* The slot map now, while the cluster is likely whole: a worker's first
   * operation must not ask for it node by node, in the configured order,
   * at a moment when one of them hangs. */
  relay_redis_cluster_refresh (client, NULL);

  for (;;)
    {
      gpointer item = g_async_queue_pop (self->queue);
      RelayOp *op = item;

      if (item == &stop_marker)
        break;

      relay_redis_cluster_set_deadline (client, op_deadline (op));
      apply (self, client, op);
      relay_redis_cluster_set_deadline (client, 0);
      account (self, client, &redirects, &reconnects);
      finish (self, op);
      relay_redis_cluster_run_deferred (client);
    }

  return NULL;
}

/* The creates' threads: each takes what is waiting, up to MAX_BATCH, and
 * applies it as one batch (apply_creates()). Creates have threads of their
 * own so that they wait in the queue while a batch is out, and the next
 * batch is the larger for it. */
static gpointer
creates_thread (gpointer data)
{
  RelayStoreRedis *self = data;
  g_autoptr(RelayRedisCluster) client = relay_redis_cluster_new ((const char * const *) self->nodes, TIMEOUT_MS);
  g_autofree RelayOp **ops = g_new0 (RelayOp *, MAX_BATCH);
  guint64 redirects = 0, reconnects = 0;
  gboolean stopping = FALSE;

  relay_redis_cluster_refresh (client, NULL);

  while (!stopping)
    {
      gpointer item = g_async_queue_pop (self->create_queue);
      guint n = 0;

      /* Every thread takes one stop marker, and the markers come after
       * every op: one taken here ends this thread after its batch. */
      for (; item != NULL; item = n < MAX_BATCH ? g_async_queue_try_pop (self->create_queue) : NULL)
        {
          if (item == &stop_marker)
            {
              stopping = TRUE;
              break;
            }
          ops[n++] = item;
        }
      if (n == 0)
        continue;

      {
        gint64 deadline = op_deadline (ops[0]);

        for (guint i = 1; i < n; i++)
          deadline = MIN (deadline, op_deadline (ops[i]));
        relay_redis_cluster_set_deadline (client, deadline);
      }
      apply_creates (self, client, ops, n);
      relay_redis_cluster_set_deadline (client, 0);
      account (self, client, &redirects, &reconnects);
      for (guint i = 0; i < n; i++)
        finish (self, ops[i]);
      relay_redis_cluster_run_deferred (client);
    }

  return NULL;
}

/* RelayStore */

static void
relay_store_redis_submit (RelayStore *store,
                          RelayOp    *op)
{
  RelayStoreRedis *self = RELAY_STORE_REDIS (store);

  g_return_if_fail (op->done != NULL);

  g_mutex_lock (&self->lock);
  if (self->stopping)
    {
      g_mutex_unlock (&self->lock);
      op->status = RELAY_STATUS_FAILED;
      op->error = g_error_new_literal (G_IO_ERROR, G_IO_ERROR_CLOSED, "The store is closing");
      op->done (op, op->user_data);
      return;
    }
  self->outstanding++;
  /* Under the lock that close() sets stopping under: every op is in its
   * queue before the stop markers, which end the threads. */
  g_async_queue_push (op->kind == RELAY_OP_CREATE ? self->create_queue : self->queue, op);
  g_mutex_unlock (&self->lock);
}

static void
relay_store_redis_flush (RelayStore *store)
{
  RelayStoreRedis *self = RELAY_STORE_REDIS (store);

  g_mutex_lock (&self->lock);
  while (self->outstanding > 0)
    g_cond_wait (&self->idle, &self->lock);
  g_mutex_unlock (&self->lock);
}

static RelayMailbox *
relay_store_redis_lookup (RelayStore  *store,
                          const char  *id,
                          GError     **error)
{
  RelayStoreRedis *self = RELAY_STORE_REDIS (store);
  g_autoptr(GError) local = NULL;
  RelayMailbox *mailbox;

  g_mutex_lock (&self->lookup_lock);
  mailbox = lookup_with (self->lookup_client, id, NULL, 0, &local);
  account (self, self->lookup_client, &self->lookup_redirects, &self->lookup_reconnects);
  g_mutex_unlock (&self->lookup_lock);

  if (local != NULL)
    {
      if (g_error_matches (local, RELAY_REDIS_ERROR, RELAY_REDIS_ERROR_UNAVAILABLE))
        probe_soon (self);
      g_propagate_error (error, g_steal_pointer (&local));
    }
  return mailbox;
}

/* Every lookup waits on the network: the HTTP thread submits them to the
 * workers (RELAY_OP_LOOKUP), so that a primary that hangs holds up the
 * reads of its own slots, not every read of this instance. */
static gboolean
relay_store_redis_lookups_block (RelayStore *store)
{
  return TRUE;
}

/* Everyone's count, with what expired forgotten; -1 if the store failed. */
static gint64
count_global (RelayStoreRedis  *self,
              gint64            now,
              gint64           *forgotten,
              GError          **error)
{
  Usage usage;
  gboolean ok;

  g_mutex_lock (&self->lookup_lock);
  ok = count_step (self, self->lookup_client, NULL, now, NULL, 0, 0, 0, &usage, error);
  account (self, self->lookup_client, &self->lookup_redirects, &self->lookup_reconnects);
  g_mutex_unlock (&self->lookup_lock);
  if (!ok)
    return -1;
  if (forgotten != NULL)
    *forgotten = usage.forgotten;
  return usage.mailboxes;
}

static gint64
relay_store_redis_purge_expired (RelayStore  *store,
                                 gint64       now,
                                 GError     **error)
{
  RelayStoreRedis *self = RELAY_STORE_REDIS (store);
  gint64 forgotten;

  if (count_global (self, now, NULL, error) < 0)
    return -1;

  g_mutex_lock (&self->lock);
  forgotten = self->forgotten;
  self->forgotten = 0;
  g_mutex_unlock (&self->lock);
  return forgotten;
}

static gint64
relay_store_redis_count_live (RelayStore *store,
                              gint64      now)
{
  return count_global (RELAY_STORE_REDIS (store), now, NULL, NULL);
}

static void
relay_store_redis_get_state (RelayStore      *store,
                             RelayStoreState *state)
{
  RelayStoreRedis *self = RELAY_STORE_REDIS (store);

  g_mutex_lock (&self->lock);
  *state = self->state;
  g_mutex_unlock (&self->lock);
}

static RelayStoreStats *
relay_store_redis_stats (RelayStore *store)
{
  return &RELAY_STORE_REDIS (store)->stats;
}

static void
relay_store_redis_watch (RelayStore           *store,
                         RelayStoreChangeFunc  func,
                         gpointer              user_data)
{
  RelayStoreRedis *self = RELAY_STORE_REDIS (store);

  if (self->subscriber != NULL)
    {
      relay_redis_subscriber_stop (self->subscriber);
      g_clear_object (&self->subscriber);
    }
  if (func == NULL)
    return;

  self->subscriber = relay_redis_subscriber_new ((const char * const *) self->nodes, TIMEOUT_MS, func, user_data);
  if (!relay_redis_subscriber_wait_subscribed (self->subscriber, TIMEOUT_MS))
    g_warning ("Not subscribed to wake-ups from other relay instances yet: until it is, their writes reach "
               "waiting reads here at the end of each wait");
}

static void
relay_store_iface_init (RelayStoreInterface *iface)
{
  iface->lookup = relay_store_redis_lookup;
  iface->submit = relay_store_redis_submit;
  iface->purge_expired = relay_store_redis_purge_expired;
  iface->count_live = relay_store_redis_count_live;
  iface->flush = relay_store_redis_flush;
  iface->get_state = relay_store_redis_get_state;
  iface->watch = relay_store_redis_watch;
  iface->stats = relay_store_redis_stats;
  iface->lookups_block = relay_store_redis_lookups_block;
}

/**
 * relay_store_redis_close:
 *
 * Completes what was submitted and stops the workers. Later submissions
 * fail at once.
 */
void
relay_store_redis_close (RelayStoreRedis *self)
{
  g_mutex_lock (&self->lock);
  if (self->stopping)
    {
      g_mutex_unlock (&self->lock);
      return;
    }
  self->stopping = TRUE;
  g_cond_signal (&self->probe_cond);
  g_mutex_unlock (&self->lock);

  if (self->prober != NULL)
    g_thread_join (g_steal_pointer (&self->prober));

  for (guint i = 0; i < self->n_workers; i++)
    if (self->workers[i] != NULL)
      g_async_queue_push (self->queue, &stop_marker);
  for (guint i = 0; i < self->n_workers; i++)
    if (self->workers[i] != NULL)
      g_thread_join (g_steal_pointer (&self->workers[i]));
  for (guint i = 0; i < N_CREATORS; i++)
    if (self->creators[i] != NULL)
      g_async_queue_push (self->create_queue, &stop_marker);
  for (guint i = 0; i < N_CREATORS; i++)
    if (self->creators[i] != NULL)
      g_thread_join (g_steal_pointer (&self->creators[i]));
}

static void
relay_store_redis_finalize (GObject *object)
{
  RelayStoreRedis *self = (RelayStoreRedis *) object;

  relay_store_redis_close (self);
  if (self->subscriber != NULL)
    relay_redis_subscriber_stop (self->subscriber);
  g_clear_object (&self->subscriber);
  g_async_queue_unref (self->queue);
  g_async_queue_unref (self->create_queue);
  g_free (self->workers);
  g_clear_object (&self->lookup_client);
  g_strfreev (self->nodes);
  g_free (self->instance);
  g_mutex_clear (&self->lock);
  g_mutex_clear (&self->lookup_lock);
  g_cond_clear (&self->idle);
  g_cond_clear (&self->probe_cond);

  G_OBJECT_CLASS (relay_store_redis_parent_class)->finalize (object);
}

static void
relay_store_redis_class_init (RelayStoreRedisClass *klass)
{
  G_OBJECT_CLASS (klass)->finalize = relay_store_redis_finalize;
}

static void
relay_store_redis_init (RelayStoreRedis *self)
{
  g_mutex_init (&self->lock);
  g_mutex_init (&self->lookup_lock);
  g_cond_init (&self->idle);
  g_cond_init (&self->probe_cond);
  self->queue = g_async_queue_new ();
  self->create_queue = g_async_queue_new ();
  self->stats.kind = "redis";
  self->stats.health = RELAY_STORE_HEALTH_UNKNOWN;
  self->instance = g_uuid_string_random ();
}

/**
 * relay_store_redis_new:
 * @nodes: host:port of one or more cluster nodes
 * @limits: (nullable): the bounds to keep; %NULL for none
 * @n_workers: store operations in flight at once, creates aside (they go
 *   in batches, on threads of their own: creates_thread())
 * @lease_ms: the read leases RELAY_OP_LOOKUP takes when asked (RelayOp.lease)
 *
 * A cluster that cannot be reached now is not an error: operations then
 * fail (503) until it can.
 */
RelayStoreRedis *
relay_store_redis_new (const char * const      *nodes,
                       const RelayStoreLimits  *limits,
                       guint                    n_workers,
                       guint                    lease_ms,
                       GError                 **error)
{
  g_autoptr(RelayStoreRedis) self = g_object_new (RELAY_TYPE_STORE_REDIS, NULL);
  g_autoptr(GError) local = NULL;

  if (nodes == NULL || nodes[0] == NULL)
    {
      g_set_error_literal (error, G_IO_ERROR, G_IO_ERROR_INVALID_ARGUMENT, "No Redis node is configured");
      return NULL;
    }

  scripts_init ();
  self->nodes = g_strdupv ((char **) nodes);
  self->lease_ms = lease_ms;
  if (limits != NULL)
    self->limits = *limits;
  self->lookup_client = relay_redis_cluster_new (nodes, TIMEOUT_MS);
  /* Lookups run on the HTTP thread: a store that is down is a quick 503. */
  relay_redis_cluster_set_max_attempts (self->lookup_client, 3);

  if (count_global (self, g_get_real_time () / G_USEC_PER_SEC, NULL, &local) < 0)
    g_warning ("The Redis cluster cannot be reached yet (%s): requests are answered 503 until it can",
               local->message);

  g_return_val_if_fail (n_workers > 0, NULL);
  self->n_workers = n_workers;
  self->workers = g_new0 (GThread *, n_workers);
  for (guint i = 0; i < n_workers; i++)
    self->workers[i] = g_thread_new ("relay-store-redis", worker_thread, self);
  for (guint i = 0; i < N_CREATORS; i++)
    self->creators[i] = g_thread_new ("relay-store-create", creates_thread, self);
  self->prober = g_thread_new ("relay-store-probe", probe_thread, self);

  return g_steal_pointer (&self);
}
