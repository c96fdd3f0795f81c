-- bench/delay.lua - wrk script for bench/https.sh's paced loss check: each
-- connection waits BENCH_DELAY_MS milliseconds before every request, so
-- that c connections make about c * 1000 / BENCH_DELAY_MS requests/s.
local ms = tonumber(os.getenv("BENCH_DELAY_MS") or "8")

function delay()
	return ms
end
