-- Lmod modulefile for a shared kslurm install (kslurm @VERSION@).
-- install.sh --prefix DIR writes a copy with the real prefix to DIR/modulefiles/kslurm/@VERSION@.lua;
-- users then run `module use DIR/modulefiles; module load kslurm`.
local version = "@VERSION@"
local prefix = "@PREFIX@"
if prefix:sub(1, 1) == "@" then
  -- not substituted: assume this file sits at PREFIX/share/kslurm/kslurm.lua
  prefix = myFileName():gsub("/share/kslurm/[^/]*$", "")
end

whatis("Name: kslurm")
whatis("Version: " .. version)
whatis("Description: Slurm jobs (krun, kbatch, kjupyter), Python venvs (kpy) and container images (kapp)")
help([[
kslurm ]] .. version .. [[: krun, kbatch, kjupyter, kpy, kapp and kslurm.
Site settings: ]] .. prefix .. [[/etc/kslurm/config.toml
]])

prepend_path("PATH", pathJoin(prefix, "bin"))
