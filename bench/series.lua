-- bench/series.lua - wrk script for bench/daemon.sh: cycles through
-- $BENCH_SERIES distinct routes /api/<word>, where <word> is six letters
-- g..z (route normalisation keeps such words, so each is its own series).
-- Word i is the same in every run, so the routes of a smaller run are a
-- subset of a larger one's.
local n = tonumber(os.getenv("BENCH_SERIES") or "100")
local i = 0
local letters = "ghijklmnopqrstuvwxyz"

local function word(k)
	local s = ""
	for _ = 1, 6 do
		local d = k % 20
		s = s .. letters:sub(d + 1, d + 1)
		k = math.floor(k / 20)
	end
	return s
end

request = function()
	i = (i + 1) % n
	return wrk.format("GET", "/api/" .. word(i))
end
