// SPDX-License-Identifier: GPL-2.0

#include <linux/if_vlan.h>
#include <linux/skbuff.h>

__rust_helper __be16 rust_helper_skb_protocol(const struct sk_buff *skb,
					      bool skip_vlan)
{
	return skb_protocol(skb, skip_vlan);
}
