# bash completion for cairn(1).
#
# Commands and options are read from the program itself (`cairn --help`,
# `cairn help COMMAND`), so they never drift from what it accepts;
# sub-commands (migrate up|down, audit log|verify|...) and a few values
# (environments, formats, import tools) are known here.  Installed by
# `make install` under share/bash-completion/completions/cairn.

_cairn_commands()
{
	"${1:-cairn}" --help 2>/dev/null |
		sed -n '/^Commands:/,/^$/s/^  \([a-z][a-z-]*\) .*/\1/p'
}

_cairn_options()
{
	"$1" help "$2" 2>/dev/null | grep -o -- '--[a-z][a-z-]*' | sort -u
}

_cairn_global_options="-C --config --env --rev --worktree --db --format
-q --quiet -v --verbose --no-color -h --help --version"

_cairn()
{
	local cur prev words cword bin cmd i
	cur=${COMP_WORDS[COMP_CWORD]}
	prev=
	((COMP_CWORD > 0)) && prev=${COMP_WORDS[COMP_CWORD - 1]}
	bin=${COMP_WORDS[0]}
	COMPREPLY=()

	case $prev in
	-C)
		COMPREPLY=($(compgen -d -- "$cur"))
		return 0 ;;
	--config)
		COMPREPLY=($(compgen -f -- "$cur"))
		return 0 ;;
	--format)
		COMPREPLY=($(compgen -W "text json junit github gitlab markdown" -- "$cur"))
		return 0 ;;
	--env)
		local envs
		envs=$(sed -n '/^environments:/,/^[^ #]/s/^  \([A-Za-z0-9_.-]*\):.*/\1/p' cairn.yaml 2>/dev/null)
		COMPREPLY=($(compgen -W "${envs:-development}" -- "$cur"))
		return 0 ;;
	--rev)
		COMPREPLY=($(compgen -W "$(git for-each-ref --format='%(refname:short)' 2>/dev/null) HEAD" -- "$cur"))
		return 0 ;;
	--db|--reason|--meta|--to|--steps|--lock-timeout|--since|--limit|--dir|--base|--migration)
		return 0 ;;
	esac

	# the command: the first word that is not an option (or its value)
	cmd=
	for ((i = 1; i < COMP_CWORD; i++)); do
		case ${COMP_WORDS[i]} in
		-C|--config|--env|--rev|--db|--format) ((i++)) ;;
		-*) ;;
		*) cmd=${COMP_WORDS[i]}; break ;;
		esac
	done

	if [[ -z $cmd ]]; then
		if [[ $cur == -* ]]; then
			COMPREPLY=($(compgen -W "$_cairn_global_options" -- "$cur"))
		else
			COMPREPLY=($(compgen -W "$(_cairn_commands "$bin")" -- "$cur"))
		fi
		return 0
	fi
	if [[ $cur == -* ]]; then
		COMPREPLY=($(compgen -W "$(_cairn_options "$bin" "$cmd") $_cairn_global_options" -- "$cur"))
		return 0
	fi
	# the word right after the command
	if ((i == COMP_CWORD - 1)); then
		case $cmd in
		migrate) COMPREPLY=($(compgen -W "up down" -- "$cur")) ;;
		audit) COMPREPLY=($(compgen -W "log verify export anchor" -- "$cur")) ;;
		hooks) COMPREPLY=($(compgen -W "list run" -- "$cur")) ;;
		githooks) COMPREPLY=($(compgen -W "install uninstall status" -- "$cur")) ;;
		githook) COMPREPLY=($(compgen -W "pre-push post-merge post-checkout post-rewrite" -- "$cur")) ;;
		dev-db) COMPREPLY=($(compgen -W "start stop status url" -- "$cur")) ;;
		import) COMPREPLY=($(compgen -W "golang-migrate dbmate flyway sqitch" -- "$cur")) ;;
		help) COMPREPLY=($(compgen -W "$(_cairn_commands "$bin") --man" -- "$cur")) ;;
		esac
	fi
	return 0
}

complete -F _cairn cairn
