# usage: zsh -f harness.zsh SCRIPT LINE  -> prints each offered candidate on its own line
zmodload zsh/zpty
script=$1 line=$2
zpty z zsh -f -i
zpty -w z "PS1='' PROMPT='' RPROMPT=''; unsetopt zle_bracketed_paste 2>/dev/null"
zpty -w z "autoload -Uz compinit && compinit -u -D"
zpty -w z "source ${(q)script}"
zpty -w z "zstyle ':completion:*' menu no; setopt NO_BEEP"
# every real addition of matches is echoed as <<match>> before it is made
zpty -w z 'compadd() {
  local -a opts=("${(@)argv[1,${argv[(i)--]}-1]}") hits
  if (( ${opts[(I)-[OAD]*]} )); then builtin compadd "$@"; return; fi
  builtin compadd -O hits "$@"
  local h; for h in $hits; do print -rn -- "<<$h>>"; done
  builtin compadd "$@"
}'
zpty -w -n z "$line"$'\t'
zpty -w -n z $'\C-u'
zpty -w z 'print END-$((40+2))'
out=''
while zpty -r z chunk; do
  out+=$chunk
  [[ $out == *END-42* ]] && break
done
zpty -d z
for piece in ${(s:>>:)out}; do [[ $piece == *'<<'* ]] && print -r -- ${piece##*<<}; done
