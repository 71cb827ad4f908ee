local M = {}
function M.main(args) print("hello", #args) return 0 end
return M
