/* placeholder */
typedef int kmt_offer_placeholder;
