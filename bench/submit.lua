-- wrk script: POSTs device requests with unique serials (BENCH_PREFIX .. counter).
local hash = os.getenv("BENCH_HASH")
local prefix = os.getenv("BENCH_PREFIX") or "B"
local n = 0
local headers = {["Content-Type"] = "application/json"}

request = function()
  n = n + 1
  -- Each submission from its own client address (the server trusts this proxy header in the
  -- benchmark's configuration), as when many sites register devices.
  headers["X-Forwarded-For"] = "10." .. (math.floor(n / 65536) % 256) .. "." ..
      (math.floor(n / 256) % 256) .. "." .. (n % 256)
  local body = '{"serialNumber":"' .. prefix .. "-" .. n ..
      '","manufacturer":"LENOVO","model":"21R3001BUK","hardwareHash":"' .. hash .. '"}'
  return wrk.format("POST", "/api/v1/requests", headers, body)
end
