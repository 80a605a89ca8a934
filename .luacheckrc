std = "max"
globals = { "ngx" }          -- nginx/OpenResty: transport/ngx.lua, the simulator host, the example app
max_line_length = false      -- catalogs carry the documents' long texts
unused_args = false
files["spec"] = { std = "+busted" }
exclude_files = { "build", "build-luajit" }
-- an empty branch documents a case deliberately left alone
ignore = { "542" }
