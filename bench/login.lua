-- wrk script: every request is a full login (CSRF-checked form POST).
wrk.method = "POST"
wrk.headers["Content-Type"] = "application/x-www-form-urlencoded"
wrk.headers["Cookie"] = "csrftoken=" .. os.getenv("CSRF_SECRET")
wrk.body = "username=bench&password=" .. os.getenv("BENCH_PASSWORD")
  .. "&csrfmiddlewaretoken=" .. os.getenv("CSRF_TOKEN")
