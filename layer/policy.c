/* policy.c -- discard policies (next step). */
typedef int kmt_policy_placeholder;
