# zsh -f zsh-complete.zsh SCRIPT LINE: types LINE and a Tab into an interactive zsh (in a zpty
# pseudo-terminal) with SCRIPT loaded, and prints each match the completion adds, one per line.
zmodload zsh/zpty
script=$1 line=$2
zpty z zsh -f -i

# Sends one command line and waits for the next prompt (typed-ahead keys may be dropped otherwise).
run() {
  local seen
  zpty -w z "$1"
  zpty -r z seen '*READY> '

}
run "PS1='RE''ADY> '; unsetopt zle_bracketed_paste"
run "autoload -Uz compinit && compinit -u -D"
run "source ${(q)script}"
run "zstyle ':completion:*' menu no; setopt NO_BEEP"
# every real addition of matches is echoed as <<match>> before it is made
run 'compadd() {
  local -a opts=("${(@)argv[1,${argv[(i)--]}-1]}") hits
  if (( ${opts[(I)-[OAD]*]} )); then builtin compadd "$@"; return; fi
  builtin compadd -O hits "$@"
  local h; for h in $hits; do print -rn -- "<<""$h"">>"; done
  builtin compadd "$@"
}'
zpty -w -n z "$line"$'\t'
zpty -w -n z $'\C-u'
zpty -w z 'print END-$((40+2))'
zpty -r z out '*END-42*'
zpty -d z
for piece in ${(s:>>:)out}; do [[ $piece == *'<<'* ]] && print -r -- ${piece##*<<}; done
exit 0
