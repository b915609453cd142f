-- wrk script for `make bench`: POST /api/v1/customers with a distinct
-- email per request (no Idempotency-Key, so each creates a customer).
local counter = 0
local thread_id = 0

function setup(thread)
	thread:set("tid", thread_id)
	thread_id = thread_id + 1
end

function request()
	counter = counter + 1
	local body = string.format(
	    '{"email":"bench-%d-%d@example.com","name":"Bench %d"}',
	    tid, counter, counter)
	return wrk.format("POST", "/api/v1/customers", {
		["Content-Type"] = "application/json",
		["Authorization"] = "Bearer " .. os.getenv("BENCH_KEY"),
	}, body)
end
