-- wrk script: POSTs device requests with unique serials (APM_BENCH_PREFIX .. counter).
local hash = os.getenv("APM_BENCH_HASH")
local prefix = os.getenv("APM_BENCH_PREFIX") or "B"
local n = 0
local headers = {["Content-Type"] = "application/json"}

request = function()
  n = n + 1
  local body = '{"serialNumber":"' .. prefix .. "-" .. n ..
      '","manufacturer":"LENOVO","model":"21R3001BUK","hardwareHash":"' .. hash .. '"}'
  return wrk.format("POST", "/api/v1/requests", headers, body)
end
