// An example input for code-complexity (JavaScript is approximated).
export function discount(cart, code) {
  if (!code) return 0;
  let pct = 0;
  switch (code) {
    case "SAVE10":
      pct = 10;
      break;
    case "SAVE20":
      pct = cart.total > 100 ? 20 : 10;
      break;
    default:
      pct = 0;
  }
  return cart.total * pct / 100;
}

export const label = (item) => {
  return item.name || "unnamed";
};
