#!/usr/bin/python3
# nvqctl_vm: an Ansible module for one nvqctl VM on the managed host.
# Plain Python 3 calling the nvqctl binary there: nothing of nvqctl's
# to install beyond nvqctl itself.  Copy it into a playbook's library/.
import json
import os
import shlex

from ansible.module_utils.basic import AnsibleModule

DOCUMENTATION = r'''
module: nvqctl_vm
short_description: Start, stop, restart, kill (or save) an nvqctl VM
description:
  - Brings a QEMU VM managed by nvqctl(8) to a state, reporting
    whether anything changed, with the VM's C(nvqctl status --json)
    document.  Check mode asks nvqctl (status, dryrun) and changes
    nothing.
options:
  name: {description: The VM's name., required: true, type: str}
  state:
    description:
      - started, stopped, restarted (always changes), killed (stopped
        at once, guest data may be lost) or saved (only where the
        host's nvqctl has a save command).
    choices: [started, stopped, restarted, killed, saved]
    default: started
    type: str
  timeout:
    description: Seconds the shutdown may take (stopped, restarted);
      the VM's SHUTDOWN_TIMEOUT when unset.
    type: int
  force:
    description: At the timeout, quit QEMU and signal it (nvqctl stop
      --force).
    type: bool
    default: false
  nvqctl:
    description: The command that runs nvqctl, split into words as a
      shell would (C(sudo -n nvqctl), C(env NVQCTL_CONFDIR=/x nvqctl)).
    type: str
    default: nvqctl
'''

EXAMPLES = r'''
- name: web runs
  nvqctl_vm: {name: web, state: started}
- name: db is shut down within two minutes, forced after that
  nvqctl_vm: {name: db, state: stopped, timeout: 120, force: true}
'''

RETURN = r'''
status: {description: nvqctl status --json of the VM afterwards., type: dict}
action: {description: What nvqctl said it did (its --json document)., type: dict}
'''

# Where make install put nvqctl (written in by it): also looked in,
# since an ssh session's PATH often lacks the sbin directories.
INSTALLED = '/usr/local/sbin/nvqctl'
# nvqctl's exit status for "already as asked" (nvqctl(8) EXIT STATUS).
UNCHANGED = 3
# The states a VM is "running" in, for started/stopped: QEMU is there.
DOWN = ('stopped',)


class Nvqctl(object):
    def __init__(self, module):
        self.module = module
        self.argv = shlex.split(module.params['nvqctl'])
        if not self.argv:
            module.fail_json(msg='nvqctl: an empty command')
        found = module.get_bin_path(self.argv[0], opt_dirs=[
            '/usr/pkg/sbin', os.path.dirname(INSTALLED), '/usr/sbin'])
        if found:
            self.argv[0] = found

    def run(self, *args):
        return self.module.run_command(self.argv + list(args))

    def fail(self, rc, out, err, what):
        msg = (err or out).strip() or '%s exited %d' % (what, rc)
        self.module.fail_json(msg=msg, rc=rc, stdout=out, stderr=err)

    def status(self, name):
        rc, out, err = self.run('status', '--json', name)
        if rc != 0:
            self.fail(rc, out, err, 'nvqctl status')
        try:
            return json.loads(out)
        except ValueError:
            self.module.fail_json(msg='nvqctl status --json printed no '
                                  'JSON (an nvqctl too old?)', stdout=out)

    def has(self, command):
        rc, out, err = self.run('help')
        return any(line.split()[:1] == [command]
                   for line in out.splitlines())

    # An action: (changed, its document).  Exit 3 is "already so".
    def act(self, *args):
        rc, out, err = self.run(*args)
        if rc not in (0, UNCHANGED):
            self.fail(rc, out, err, 'nvqctl ' + args[0])
        try:
            doc = json.loads(out) if out.strip() else {}
        except ValueError:
            doc = {}
        return rc == 0, doc


def plan(state, running):
    # What an action would do, for check mode and to skip no-ops.
    if state == 'started':
        return not running
    if state in ('stopped', 'killed', 'saved'):
        return running
    return True


def main():
    module = AnsibleModule(
        argument_spec=dict(
            name=dict(type='str', required=True),
            state=dict(type='str', default='started',
                       choices=['started', 'stopped', 'restarted',
                                'killed', 'saved']),
            timeout=dict(type='int'),
            force=dict(type='bool', default=False),
            nvqctl=dict(type='str', default='nvqctl'),
        ),
        supports_check_mode=True,
    )
    p = module.params
    n = Nvqctl(module)
    name, state = p['name'], p['state']
    if state == 'saved' and not n.has('save'):
        module.fail_json(msg='state=saved: this host\'s nvqctl has no '
                         'save command (an nvqctl without it)')
    before = n.status(name)
    running = before.get('state') not in DOWN
    would = plan(state, running)
    if module.check_mode or not would:
        if would and state in ('started', 'restarted'):
            # The config must be good enough to start: nvqctl dryrun.
            rc, out, err = n.run('dryrun', name)
            if rc != 0:
                n.fail(rc, out, err, 'nvqctl dryrun')
        module.exit_json(changed=would, status=before, action=None)
    timeout = [str(p['timeout'])] if p['timeout'] is not None else []
    force = ['--force'] if p['force'] else []
    if state == 'started':
        changed, doc = n.act('start', '--json', name)
    elif state == 'stopped':
        changed, doc = n.act('stop', '--json', *(force + [name] + timeout))
    elif state == 'restarted':
        changed, doc = n.act('restart', '--json',
                             *(force + [name] + timeout))
    elif state == 'killed':
        changed, doc = n.act('kill', '--json', name)
    else:
        changed, doc = n.act('save', name)
    module.exit_json(changed=changed, status=n.status(name), action=doc)


if __name__ == '__main__':
    main()
